"""`main`'s generate_data step is picked by the layout too: a finished outdoor run of the same generator settings
is not the indoor set's step, and the indoor step's run is reused once it exists."""

from __future__ import annotations

from pathlib import Path

from mlflow.tracking import MlflowClient

from radiodiff.config import Config, load
from radiodiff.data.generated import default_data_dir
from radiodiff.jobs.main import _generate_data
from radiodiff.tracking import run_tag, start_run

GENERATOR = (
    "generator.maps=2 generator.tx_per_map=1 generator.indoor_buildings=1 generator.indoor_tx_per_setting=1 "
    "generator.indoor_min_side=32 generator.indoor_max_side=40 generator.workers=1 tracking.system_metrics=false"
)


def test_the_data_step_of_each_layout_is_a_run_of_that_layout(home: Path) -> None:
    outdoor, indoor = load(None, GENERATOR), load(None, f"{GENERATOR} data.layout=icassp")
    indoor_run = _step_run(indoor)
    assert MlflowClient().get_run(indoor_run).data.params["cfg.data.layout"] == "icassp"
    assert default_data_dir(indoor.generator, "icassp").is_dir()
    outdoor_run = _step_run(outdoor)  # newer than the indoor run, with the same generator section
    assert outdoor_run != indoor_run
    assert MlflowClient().get_run(outdoor_run).data.params["cfg.data.layout"] == "radiomapseer"
    assert (_step_run(indoor), _step_run(outdoor)) == (indoor_run, outdoor_run)  # each reused, not generated again
    assert len(MlflowClient().search_runs([_experiment()], "tags.`radiodiff.entry_point` = 'generate_data'")) == 2


def _step_run(config: Config) -> str:
    """The generate_data run that `main`'s data step records for `config`."""
    with start_run("main", config, run_name="main") as parent:
        _generate_data(config, parent)
        run_id = parent.run_id
    return run_tag(run_id, "radiodiff.step.generate_data")


def _experiment() -> str:
    return MlflowClient().get_experiment_by_name("Default").experiment_id
