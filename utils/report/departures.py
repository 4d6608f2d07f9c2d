"""Every deliberate departure from the assignment's settings, with its measured effect where a
run measured it (a validation comparison of the recipe section that chose it), else "not
measured". The settings in use are read from the result specs; the effects from the JSON."""
import statistics

from utils.report.recipe import recipe_of, validation_acc
from utils.report import words
from utils.report.common import count, table
from utils.sections import BLOCKS_PER_STAGE, DEEP_DEPTH, DEPARTURES, folder, role


def _validation(results, key, model):
    """{recipe: mean validation accuracy of `model`} in a recipe section."""
    scores = {}
    for r in results.section(folder(key)):
        meta = r["spec"]["meta"]
        if meta.get("tuned_model") == model:
            scores.setdefault(meta["recipe"], []).append(validation_acc(r))
    return {k: statistics.mean(v) for k, v in scores.items()}


def _effect(scores, chosen, key):
    if len(scores) < 2 or chosen not in scores:
        return "not measured"
    others = ", ".join(f"{k} {v:.4f}" for k, v in scores.items() if k != chosen)
    return f"validation accuracy {chosen} {scores[chosen]:.4f} against {others} (`{key}`)"


def _spec(results, key, name):
    runs = [r for r in results.section(folder(key)) if r["name"] == name]
    return runs[0]["spec"] if runs else None


def _depth_label(blocks):
    """The depth recipe's label for a number of blocks per stage (the registry's names)."""
    return next(label for label, n in BLOCKS_PER_STAGE.items() if n == blocks)


def _row(results, d):
    """One departure of the registry (utils/sections.py DEPARTURES) as a table row."""
    key, part = d["net"]
    name = role(key, part)
    spec = _spec(results, key, name)
    kw = {"depth": DEEP_DEPTH, "blocks_per_stage": 1, **spec["model_kwargs"]}
    ours = d["ours"].format(**spec, kw=kw, blocks=kw["blocks_per_stage"],
                            blocks_text=count(kw["blocks_per_stage"], "block"),
                            Optimizer=spec["optimizer"].capitalize())
    if "recipe" not in d:
        return [d["what"], d["assignment"], ours, d["not_measured"] or "not measured"]
    recipe = results.section(folder(d["recipe"]))
    chosen = {"schedule": spec["schedule"], "depth": _depth_label(kw["blocks_per_stage"]),
              "recipe": recipe_of({"spec": spec}, recipe)}[d["chose"]]
    effect = (_effect(_validation(results, d["recipe"], name), chosen, d["recipe"])
              if chosen else "not measured")
    return [d["what"], d["assignment"], ours, effect + d.get("note", "").format(name=name)]


def applicable(results):
    """The departures of the registry whose nets have run."""
    return [d for d in DEPARTURES if _spec(results, d["net"][0], role(*d["net"])) is not None]


def departures(results):
    rows = [_row(results, d) for d in applicable(results)]
    if not rows:
        return None
    return words.macro("recipes.md.j2", "departures", rows=rows, table=table(rows, [
        (header, lambda r, i=i: r[i]) for i, header in
        enumerate(["what", "the assignment", "this study", "measured effect"])]))
