"""The grading model (评级模型): a fitted scorecard plus its calibrated grade scheme.

This is the object MLflow stores (pickled, wrapped by ``mlflow_model.py`` as a pyfunc):
given a frame of indicators it returns score, PD and the model grade, so a model loaded
by alias in any process grades exactly as the notebook that trained it.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from workbench.scoring.grades import CalibratedScheme
from workbench.scoring.scorecard import FittedScorecard

OUTPUT_COLUMNS = ("score", "pd", "model_grade")


@dataclass
class GradingModel:
    """Scorecard + calibrated grade scheme + what it was trained on.

    Attributes:
        family: model family (``generic``, ``food``, …): one registered model per family.
        catalog_fingerprint: SHA-256 of the indicator catalog it was trained with.
    """

    family: str
    scorecard: FittedScorecard
    scheme: CalibratedScheme
    catalog_fingerprint: str
    metadata: dict = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        """The indicators the model reads."""
        return list(self.scorecard.features)

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Score, PD and model grade for each row of ``frame`` (index kept)."""
        score = self.scorecard.score(frame)
        return pd.DataFrame(
            {
                "score": score,
                "pd": self.scorecard.pd_from_score(score),
                "model_grade": self.scheme.assign(score),
            },
            index=frame.index,
        )

    def save(self, path: str | Path) -> Path:
        """Pickle the model to ``path``."""
        path = Path(path)
        path.write_bytes(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))
        return path

    @staticmethod
    def load(path: str | Path) -> GradingModel:
        """Read a model written by :meth:`save` (trusted files only: it is a pickle)."""
        model = pickle.loads(Path(path).read_bytes())
        if not isinstance(model, GradingModel):
            raise TypeError(f"{path} does not hold a GradingModel")
        return model
