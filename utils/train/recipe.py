"""Recipe selection on a validation split carved from train: never on the test set.

A task declares its final specs and a few recipe candidates (named overrides of spec fields);
`candidate_specs` turns them into runs that hold images out of train and evaluate on those.
utils/report/recipe.py reads the finished runs back and names the winner.
"""
from dataclasses import replace


def _overridden(spec, overrides):
    """The fields `overrides` sets on `spec`; a dict (model_kwargs) is merged into the spec's own,
    so a recipe can change one constructor argument and keep the rest (dropout, say)."""
    return {k: {**getattr(spec, k), **v} if isinstance(v, dict) else v
            for k, v in overrides.items()}


def candidate_specs(final_specs, recipes, section, validation):
    """One spec per (final spec, recipe): the final spec with the recipe's overrides, its name
    `<model>_<recipe>`, holding `validation` training images out for evaluation."""
    return [replace(spec, **_overridden(spec, overrides), name=f"{spec.name}_{label}",
                    section=section, validation=validation, analyses=[],
                    meta={**spec.meta, "recipe": label, "tuned_model": spec.name,
                          "recipe_overrides": overrides})
            for spec in final_specs for label, overrides in recipes.items()]
