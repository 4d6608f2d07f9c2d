"""Recipe selection, read back: `selection` names the candidate recipe with the best mean
validation accuracy over the models (the assignment asks for the same hyperparameters for all
of them), and `selection_block` prints the table, the winner and whether the final runs use it.
"""
from dataclasses import fields

from utils.report import words
from utils.report.common import table
from utils.report.runs import group_runs, mean
from utils.spec import RunSpec

# A field missing from an older result's spec had its default when that run was made.
_DEFAULTS = {f.name: f.default for f in fields(RunSpec)}


def _carries(value, override):
    """Whether a run's field value is what the override sets (for a dict: contains its items)."""
    if isinstance(override, dict):
        return isinstance(value, dict) and all(value.get(k) == v for k, v in override.items())
    return value == override


def validation_acc(run):
    """A recipe run's accuracy on the images it held out of the training split. The runner
    writes whatever split a run was evaluated on to `final.test_acc` and names that split in
    `evaluated_on`; recipe runs are evaluated on validation images, never on the test set."""
    if run.get("evaluated_on") != "validation":
        raise ValueError(f"{run.get('run_id')} was evaluated on {run.get('evaluated_on')!r}, "
                         "not on a validation split")
    return run["final"]["test_acc"]


def _by_recipe(runs):
    """{recipe: {model: [validation accuracies over seeds]}} in the order runs were declared."""
    def meta(key):
        return lambda r: r["spec"]["meta"][key]
    return {recipe: {model: [validation_acc(r) for r in tuned]
                     for model, tuned in group_runs(same, {"model": meta("tuned_model")}).items()}
            for recipe, same in group_runs(runs, {"recipe": meta("recipe")}).items()}


def selection(runs):
    """(winner, {recipe: mean validation accuracy over models}) over recipes that finished for
    every model; (None, {}) while any is missing."""
    table = _by_recipe(runs)
    models = {m for per_model in table.values() for m in per_model}
    complete = {k: v for k, v in table.items() if set(v) == models}
    if not complete or len(complete) < len(table):
        return None, {}
    scores = {k: mean([mean(accs) for accs in v.values()]) for k, v in complete.items()}
    return max(scores, key=scores.get), scores


def recipe_of(run, candidate_runs):
    """The candidate recipe whose overrides a (final) run's spec carries, else None."""
    for c in candidate_runs:
        overrides = c["spec"]["meta"]["recipe_overrides"]
        if all(_carries(run["spec"].get(k, _DEFAULTS.get(k)), v) for k, v in overrides.items()):
            return c["spec"]["meta"]["recipe"]
    return None


def final_recipes(candidate_runs, final_runs):
    """The candidate recipes the final runs carry, sorted (None for settings of no candidate)."""
    return sorted({recipe_of(r, candidate_runs) for r in final_runs}, key=str)


def selection_block(candidate_runs, final_runs, not_applied=None):
    """Markdown: the validation table, the winner and whether the final runs use it; for a
    search whose winner is deliberately not applied, `not_applied` says why instead."""
    if not candidate_runs:
        return None
    by_recipe = _by_recipe(candidate_runs)
    overrides = {r["spec"]["meta"]["recipe"]: r["spec"]["meta"]["recipe_overrides"]
                 for r in candidate_runs}
    models = list(dict.fromkeys(m for per_model in by_recipe.values() for m in per_model))
    final_order = [r.get("name") for r in final_runs]  # the final tables' order, if known
    models.sort(key=lambda m: final_order.index(m) if m in final_order else len(final_order))
    return words.macro(
        "recipes.md.j2", "selection", first=candidate_runs[0], not_applied=not_applied,
        winner=selection(candidate_runs)[0], finals=bool(final_runs),
        used=final_recipes(candidate_runs, final_runs),
        table=table(by_recipe.items(), [
            ("recipe", lambda rp: f"`{rp[0]}` ({_describe(overrides[rp[0]])})"),
            *[(m, lambda rp, m=m: f"{mean(rp[1][m]):.4f}" if m in rp[1] else "—")
              for m in models],
            ("mean over models", lambda rp: f"{mean([mean(a) for a in rp[1].values()]):.4f}"
             if len(rp[1]) == len(models) else "—")]))


def _describe(overrides):
    """'schedule cosine', or for a dict the entries themselves: 'blocks_per_stage 2'."""
    items = [(kk, vv) for k, v in overrides.items()
             for kk, vv in (v.items() if isinstance(v, dict) else [(k, v)])]
    return ", ".join(f"{k} {v}" for k, v in items) or "as specified"
