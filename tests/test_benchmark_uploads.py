"""The soak and GPU benchmarks send dataset bundles as the service's form: every part the bundle has."""

import datetime
import json

from benchmarks.soak_media import bundle_upload
from models.bundle import Bundle


def test_a_bundle_is_sent_with_its_title_plot_and_own_fields(tmp_path):
    trailer = tmp_path / "t.mp4"
    trailer.write_bytes(b"not decoded here")
    metadata = {"year": 1999, "keywords": ["heist", "city"], "release_date": datetime.date(1999, 5, 4),
                "budget_usd": None}
    upload = bundle_upload("m1", Bundle("m1", trailer=trailer, plot="A plot.", title="A Title", metadata=metadata))
    assert upload.files == {"trailer": ("t.mp4", b"not decoded here")}
    assert upload.data["plot"] == "A plot." and upload.data["title"] == "A Title"
    assert json.loads(upload.data["metadata"]) == {"year": 1999, "keywords": ["heist", "city"],
                                                   "release_date": "1999-05-04"}
