"""A job whose Ray task never returned (its worker died, its result was lost) as a failed JobReturn.

Hydra-ray-launcher's ``ray.get`` of a batch raises on the first such task and drops the
other jobs' results; here each job gets its own result, so the sweeper can tell the
study FAIL for that trial alone and the others still end COMPLETE or PRUNED.
"""

from collections.abc import Sequence
from pathlib import Path

from hydra.core.utils import JobReturn, JobStatus
from hydra.errors import CompactHydraException
from omegaconf import DictConfig, OmegaConf

from evosweep.errors import first_line


class JobLostError(CompactHydraException, RuntimeError):
    """A job's Ray task ended without a result; the message says which job and why."""

    def __reduce__(self):
        return type(self), (str(self),)


def lost_job(sweep_config: DictConfig, overrides: Sequence[str], error: BaseException) -> JobReturn:
    """The FAILED JobReturn of a job whose task raised ``error`` in Ray itself."""
    num = OmegaConf.select(sweep_config, "hydra.job.num")
    sweep_dir = Path(str(OmegaConf.select(sweep_config, "hydra.sweep.dir")))
    output_dir = sweep_dir / str(OmegaConf.select(sweep_config, "hydra.sweep.subdir", default=num))
    message = (f"job {num} ({' '.join(overrides)}) was lost on Ray: {first_line(error)}; "
               "its run folder keeps the checkpoint of its last generation")
    return JobReturn(
        overrides=list(overrides),
        cfg=None,
        hydra_cfg=OmegaConf.create({"hydra": {"runtime": {"output_dir": str(output_dir.resolve())}}}),
        working_dir=None,
        task_name=str(OmegaConf.select(sweep_config, "hydra.job.name", default="")),
        status=JobStatus.FAILED,
        _return_value=JobLostError(message),
    )
