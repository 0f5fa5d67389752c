"""What a hostile "report a problem" costs: six 49-megapixel PNGs (about 1 MB of upload in all).

    .venv/bin/python bench/photo_report.py [--runs 3]

Each case runs in a fresh child process, so its peak memory (ru_maxrss) is its own:

  refused report    core.services.disputes.photos.prepare_all on the six PNGs (the shopper's path):
                    priced from the headers, refused before any pixel is decoded
  full decode       the same six PNGs decoded and shrunk the way every photo was before
                    (Image.open, load, thumbnail): the cost the header check avoids
  phone report      six ordinary 12 MP phone JPEGs, accepted and re-encoded: what a real report costs

Prints CPU seconds and extra peak memory (MB over the child's baseline) of each, and the refused
report's ratio to the full decode. Targets (issue 13): the refused report under 1 s of CPU and
under 100 MB of extra memory.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _bomb_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (7000, 7000), (120, 130, 140)).save(out, format="PNG")
    return out.getvalue()


def _phone_jpeg(seed: int) -> bytes:
    from PIL import Image

    image = Image.effect_noise((4000, 3000), 40 + seed).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


def _child(case: str, files_dir: str) -> dict:
    """Runs inside the child: load the files, then measure only the work."""
    from PIL import Image

    from core.errors import InvalidInput
    from core.services.disputes.photos import MAX_EDGE, Upload, prepare_all

    names = sorted(Path(files_dir).glob("bomb-*.png" if case != "phone report" else "phone-*.jpg"))
    uploads = [Upload(p.name, p.read_bytes()) for p in names]
    Image.MAX_IMAGE_PIXELS = None  # the old path had its own 50 MP limit; 49 MP passed it
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.process_time()
    outcome = "accepted"
    if case == "full decode":
        for upload in uploads:
            with Image.open(io.BytesIO(upload.data)) as image:
                image.load()
                image.thumbnail((MAX_EDGE, MAX_EDGE))
    else:
        try:
            prepare_all(uploads)
        except InvalidInput as refused:
            outcome = f"refused: {refused.message}"
    cpu = time.process_time() - started
    extra_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_rss) / 1024
    return {"cpu": cpu, "extra_mb": extra_mb, "outcome": outcome}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--files", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.files)))
        return 0

    import tempfile

    files = Path(tempfile.mkdtemp(prefix="orderdesk-photos-"))
    bomb = _bomb_png()
    for n in range(6):
        (files / f"bomb-{n}.png").write_bytes(bomb)
        (files / f"phone-{n}.jpg").write_bytes(_phone_jpeg(n))
    print(f"six 49 MP PNGs: {6 * len(bomb) / 1e6:.2f} MB uploaded; six 12 MP JPEGs for the real report")
    results: dict[str, dict] = {}
    for case in ("refused report", "full decode", "phone report"):
        runs = []
        for _ in range(args.runs):
            out = subprocess.run([sys.executable, __file__, "--child", case, "--files", str(files)],
                                 capture_output=True, text=True, check=True, env={**os.environ})
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        results[case] = {"cpu": statistics.median(r["cpu"] for r in runs),
                         "extra_mb": statistics.median(r["extra_mb"] for r in runs), "outcome": runs[0]["outcome"]}
        print(f"{case:15} CPU {results[case]['cpu']:7.3f} s   extra peak memory {results[case]['extra_mb']:7.1f} MB"
              f"   ({results[case]['outcome']})")
    refused, full = results["refused report"], results["full decode"]
    print(f"refused report / full decode: CPU {refused['cpu'] / max(full['cpu'], 1e-9):.4f}, "
          f"memory {refused['extra_mb'] / max(full['extra_mb'], 1e-9):.4f}")
    ok = refused["cpu"] < 1.0 and refused["extra_mb"] < 100
    print(f"target (under 1 s of CPU and 100 MB): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
