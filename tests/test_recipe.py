"""Recipe tuning on a validation split carved from train: the split, the runs, the selection."""
import pytest
import torch

from tests.conftest import learnable_images
from utils.train.data import holdout
from utils.train.recipe import candidate_specs
from utils.report.recipe import final_recipes, recipe_of, selection, selection_block
from utils.train.runner import Run, RunSpec, make_optimizer, make_scheduler


def test_holdout_splits_train_into_disjoint_parts_the_same_way_every_time():
    split = learnable_images(600, 1, 28)
    split.labels = torch.arange(600)  # labels as ids, to see which images went where
    train, val = holdout(split, 100)
    again_train, again_val = holdout(split, 100)
    assert len(train.labels) == 500 and len(val.labels) == 100
    assert set(train.labels.tolist()).isdisjoint(val.labels.tolist())
    assert set(train.labels.tolist()) | set(val.labels.tolist()) == set(range(600))
    assert torch.equal(val.labels, again_val.labels) and torch.equal(train.images,
                                                                     again_train.images)
    assert val.labels.tolist() != list(range(500, 600))  # a permutation, not the tail


@pytest.mark.parametrize("n", [0, 600, 700])
def test_holdout_refuses_sizes_that_leave_nothing(n):
    with pytest.raises(ValueError):
        holdout(learnable_images(600, 1, 28), n)


def test_a_validation_run_never_sees_the_test_split(synthetic_mnist, tmp_path):
    train, test = synthetic_mnist
    # Test labels scrambled: a run that evaluated on test would score about chance.
    scrambled = type(test)(test.images, (test.labels + 3) % 10)
    spec = RunSpec(name="FCNet_cosine", section="tune", model="FCNet", dataset="mnist", epochs=3,
                   batch_size=64, validation=100, schedule="cosine", inference_batch=32)
    result = Run(spec, (train, scrambled), "cpu", str(tmp_path / "r"), str(tmp_path / "c"),
                 progress=False).execute()
    assert result["evaluated_on"] == "validation"
    assert result["train_size"] == 500 and result["test_size"] == 100
    assert result["final"]["test_acc"] > 0.9
    assert result["hyperparameters"]["validation_held_out"] == 100


def test_cosine_schedule_anneals_from_the_peak_to_zero_over_the_run():
    model = torch.nn.Linear(2, 2)
    spec = RunSpec(name="m", section="s", model="FCNet", dataset="mnist", lr=1e-3,
                   schedule="cosine")
    opt = make_optimizer(spec, model)
    sched = make_scheduler(spec, opt, total_steps=100)
    lrs = []
    for _ in range(100):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(1e-3)
    assert lrs[50] == pytest.approx(0.5e-3, rel=1e-6)
    assert all(a > b for a, b in zip(lrs, lrs[1:]))
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)


def test_candidates_are_the_final_specs_with_each_recipe_on_a_validation_split():
    finals = [RunSpec(name=n, section="final", model=n, dataset="mnist", analyses=["scalars"])
              for n in ("FCNet", "SimpleCNN")]
    recipes = {"constant": {"schedule": "constant"}, "cosine": {"schedule": "cosine"}}
    specs = candidate_specs(finals, recipes, "tune", validation=5000)
    assert [s.name for s in specs] == ["FCNet_constant", "FCNet_cosine", "SimpleCNN_constant",
                                       "SimpleCNN_cosine"]
    assert all(s.section == "tune" and s.validation == 5000 and not s.analyses for s in specs)
    assert [s.schedule for s in specs] == ["constant", "cosine"] * 2
    assert specs[1].meta == {"recipe": "cosine", "tuned_model": "FCNet",
                             "recipe_overrides": {"schedule": "cosine"}}


def fake_run(model, recipe, acc, seed=0, schedule=None):
    overrides = {"schedule": schedule or recipe}
    return {"name": f"{model}_{recipe}", "seed": seed, "train_size": 55000, "test_size": 5000,
            "evaluated_on": "validation", "final": {"test_acc": acc},
            "spec": {"schedule": schedule or recipe,
                     "meta": {"recipe": recipe, "tuned_model": model,
                              "recipe_overrides": overrides}}}


def test_a_recipe_is_never_scored_on_a_run_evaluated_on_the_test_set():
    from utils.report.recipe import validation_acc
    assert validation_acc(fake_run("A", "cosine", 0.9)) == 0.9
    with pytest.raises(ValueError):
        validation_acc({**fake_run("A", "cosine", 0.9), "evaluated_on": "test"})


def test_selection_takes_the_best_mean_over_models_not_the_best_single_run():
    runs = [fake_run("A", "constant", 0.990), fake_run("B", "constant", 0.950),
            fake_run("A", "cosine", 0.980), fake_run("B", "cosine", 0.970)]
    winner, scores = selection(runs)
    assert winner == "cosine"
    assert scores == pytest.approx({"constant": 0.970, "cosine": 0.975})


def test_no_recipe_is_chosen_while_a_candidate_is_missing_for_a_model():
    runs = [fake_run("A", "constant", 0.990), fake_run("B", "constant", 0.950),
            fake_run("A", "cosine", 0.999)]
    assert selection(runs) == (None, {})
    assert "no recipe chosen yet" in selection_block(runs, [])


def test_the_report_says_whether_the_final_runs_use_the_winner():
    runs = [fake_run("A", "constant", 0.95), fake_run("A", "cosine", 0.97)]
    assert selection(runs) == ("cosine", pytest.approx({"constant": 0.95, "cosine": 0.97}))
    assert final_recipes(runs, [{"spec": {"schedule": "cosine"}}]) == ["cosine"]
    assert final_recipes(runs, [{"spec": {"schedule": "constant"}}]) == ["constant"]
    assert final_recipes(runs, [{"spec": {"schedule": "step"}}]) == [None]
    assert final_recipes(runs, []) == []
    # The block prints the validation table: a row per candidate, its score beside it.
    block = selection_block(runs, [{"spec": {"schedule": "cosine"}}])
    assert block.count("| 0.9700 | 0.9700 |") == 1 and block.count("| 0.9500 | 0.9500 |") == 1


def test_a_result_written_before_a_field_existed_counts_as_that_fields_default():
    runs = [fake_run("A", "plain", 0.95), fake_run("A", "smooth", 0.97)]
    for r, value in zip(runs, (0.0, 0.1)):
        r["spec"]["meta"]["recipe_overrides"] = {"label_smoothing": value}
    old_final = {"spec": {"schedule": "onecycle"}}  # no label_smoothing key at all
    assert recipe_of(old_final, runs) == "plain"


def test_a_constructor_argument_recipe_keeps_the_models_other_arguments():
    final = RunSpec(name="Net", section="final", model="ResNetCIFARRegularized",
                    dataset="cifar10", model_kwargs={"dropout": 0.3, "blocks_per_stage": 1})
    deeper = {"two_blocks": {"model_kwargs": {"blocks_per_stage": 2}}}
    (spec,) = candidate_specs([final], deeper, "tune", validation=5000)
    assert spec.model_kwargs == {"dropout": 0.3, "blocks_per_stage": 2}
    assert final.model_kwargs == {"dropout": 0.3, "blocks_per_stage": 1}  # not mutated


def test_a_final_run_with_more_constructor_arguments_still_carries_the_recipe():
    runs = [fake_run("A", "one_block", 0.85), fake_run("A", "two_blocks", 0.87)]
    for r, blocks in zip(runs, (1, 2)):
        r["spec"]["meta"]["recipe_overrides"] = {"model_kwargs": {"blocks_per_stage": blocks}}
    regularized = {"spec": {"model_kwargs": {"dropout": 0.3, "blocks_per_stage": 2}}}
    assert recipe_of(regularized, runs) == "two_blocks"
    assert recipe_of({"spec": {"model_kwargs": {"dropout": 0.3}}}, runs) is None
    block = selection_block(runs, [regularized])
    assert "`two_blocks` (blocks_per_stage 2)" in block and "the final runs use it" in block
