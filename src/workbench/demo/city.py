"""The demo city (演示城市) that the README's first command runs the monthly cycle on.

The city is generated once per parameter set (same parameters, same bytes) and reused;
``workbench demo`` (``cli.cmd_demo``) then runs ingest → indicators → train + promote
(the first time) on it through the stage notebooks.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from workbench import workspace
from workbench.demo import synth

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CityParameters:
    """What identifies a generated demo city: same parameters, same bytes."""

    entities: int = 100_000
    months: int = 36
    seed: int = synth.DEFAULT_SEED
    end: str = synth.DEFAULT_END
    messy: bool = True
    errors: float = 0.002  # a few bad rows, as real exports have, so quarantine shows


def generator_fingerprint() -> str:
    """SHA-256 of the generator's source: a changed generator means a different city."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(Path(synth.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _stamp(city: Path) -> Path:
    return city.with_name(city.name + ".params.json")


def ensure_city(params: CityParameters | None = None, city: Path | None = None) -> Path:
    """Return the demo city folder, generating it when needed.

    Without ``params`` any existing demo city is used as it is (an analyst may have made a
    smaller one with ``workbench synth``) and a default one is generated only when absent.
    With ``params`` the city is regenerated unless it was made with exactly those, by the
    same generator code.
    """
    city = city or workspace.default_city_dir()
    stamp = _stamp(city)
    if params is None:
        if city.is_dir():
            return city
        params = CityParameters()
    wanted = asdict(params)
    stamped = {**wanted, "generator": generator_fingerprint()}
    if city.is_dir() and stamp.is_file() and json.loads(stamp.read_text()) == stamped:
        log.info("demo city %s is up to date", city)
        return city
    log.info("generating the demo city in %s (%s)", city, stamped)
    stamp.unlink(missing_ok=True)
    synth.generate_city(city, **wanted)
    stamp.write_text(json.dumps(stamped), encoding="utf-8")
    return city
