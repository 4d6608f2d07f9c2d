"""Words from templates: the Jinja2 environment every templated part of the report renders
with (utils/report/templates/), and the filters its numbers are printed through."""
import functools
import os

import jinja2

from utils.report.common import count, fmt_int, fmt_macs, interval_text

TEMPLATES = os.path.join(os.path.dirname(__file__), "templates")


def claim(c):
    """A comparison row (verdicts.comparisons) as templates state it: who, the difference with
    its interval, the verdict after Holm, the test errors on either side."""
    if c is None:
        return None
    return {"name": f"{c['a']} − {c['b']}" + (" (on shifted images)"
                                              if c.get("measure") == "shifted" else ""),
            "a": c["a"], "b": c["b"], "measure": c.get("measure", "test_acc"),
            "difference": c["difference"],
            "interval": interval_text(c["difference"], c["low"], c["high"])
            if not c.get("too_few") else f"{c['difference']:+.4f} (too few seeds)",
            "holm": c["resolved_holm"], "alone": c["resolved"] and not c["resolved_holm"],
            "error_a": 1 - c["acc_a"], "error_b": 1 - c["acc_b"], "over": c["over"],
            "params_a": c["params_a"], "params_b": c["params_b"], "too_few": c.get("too_few")}


@functools.cache
def _environment():
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), trim_blocks=True,
                             lstrip_blocks=True, undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    env.filters.update(pct=lambda x: f"{x:.2%}".replace("%", " %"), thousands=fmt_int,
                       acc=lambda x: f"{x:.4f}", signed=lambda x: f"{x:+.4f}", macs=fmt_macs,
                       share=lambda x: f"{x:.0%}", g=lambda x: f"{x:g}",
                       count=count,
                       interval=lambda d: interval_text(d["difference"], d["low"], d["high"]))
    return env


def render(template, **numbers):
    return _environment().get_template(template).render(**numbers)


def macro(template, name, **numbers):
    """One macro of a template (a file of several short texts), called with named numbers."""
    return str(getattr(_environment().get_template(template).module, name)(**numbers)).strip()
