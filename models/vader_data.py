"""Optional extra English training data: the ~23k human-rated texts in the vaderSentiment sdist.

The ratings (mean of 10 raters, -4..+4) ship only in the source distribution
(``additional_resources/hutto_ICWSM_2014.tar.gz``); ``pip download --no-binary :all: vaderSentiment==3.3.2``
fetches it. We map mean < -0.5 to negative, > 0.5 to positive, the rest to neutral.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from models.datasets import DatasetError, LabelledText


def load_vader_ratings(sdist: Path | None = None) -> list[LabelledText]:
    """Read the rated texts from a vaderSentiment sdist (``.tar.gz``); raises if it is not given or found."""
    if sdist is None or not sdist.is_file():
        raise DatasetError(
            "pass the vaderSentiment source distribution: pip download --no-binary :all: --no-deps "
            "vaderSentiment==3.3.2 -d DIR"
        )
    rows: list[LabelledText] = []
    with tarfile.open(sdist) as outer:
        member = next((m for m in outer.getmembers() if m.name.endswith("hutto_ICWSM_2014.tar.gz")), None)
        if member is None:
            raise DatasetError(f"{sdist} has no additional_resources/hutto_ICWSM_2014.tar.gz")
        inner_bytes = outer.extractfile(member)
        assert inner_bytes is not None
        with tarfile.open(fileobj=io.BytesIO(inner_bytes.read())) as inner:
            for m in inner.getmembers():
                if not m.name.endswith("_GroundTruth.txt"):
                    continue
                fh = inner.extractfile(m)
                assert fh is not None
                for line in fh.read().decode("utf-8", errors="replace").splitlines():
                    parts = line.split("\t")
                    if len(parts) < 3:
                        continue
                    try:
                        mean = float(parts[1])
                    except ValueError:
                        continue
                    label = 0 if mean < -0.5 else 2 if mean > 0.5 else 1
                    rows.append(LabelledText(parts[2], label, "english-vader"))
    return rows
