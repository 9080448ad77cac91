"""The MLflow "models from code" wrapper of a grading model (评级模型).

MLflow copies this file into every logged model and executes it when the model is loaded
(``mlflow.pyfunc.load_model("models:/workbench-generic@champion")``); the fitted scorecard
with its calibrated grade scheme travels beside it as the pickled artifact
``grading_model``. Models from code avoid pickling this class itself (which would tie the
model to the module layout at training time) and avoid optbinning's failing skops path.

Loading needs the ``workbench`` package importable in the loading environment, because the
pickle refers to :class:`workbench.scoring.model.GradingModel`; the run's ``git_commit`` tag
says which code trained it.
"""

from __future__ import annotations

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


class GradingPyfunc(PythonModel):
    """Score, PD and model grade (得分、违约概率、模型等级) for a frame of indicators."""

    def load_context(self, context) -> None:
        """Read the pickled grading model once, when MLflow loads the model."""
        from workbench.scoring.model import GradingModel

        self.model = GradingModel.load(context.artifacts["grading_model"])

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        """Columns ``score``, ``pd``, ``model_grade``, one row per input row, in order.

        The index is reset because pyfunc callers (REST serving, Spark UDFs) match rows by
        position, not by the caller's index.
        """
        return self.model.predict(model_input).reset_index(drop=True)


mlflow.models.set_model(GradingPyfunc())
