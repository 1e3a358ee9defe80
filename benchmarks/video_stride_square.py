"""The video grid's time stride on fast motion: a 16-frame sliding square (48x64, lossless H.264) at strides 1, 2, 4, 8.

Prints `stride quality bytes PSNR` lines (PSNR of the decoded file). A tuning input for rate/quality.VIDEO_TIME_STRIDE
beside carphone and bikes (benchmarks/video_probe.py): long strides win on near-static content and lose badly on
motion; here one plane a frame wins (rate/timestride.py).

    python benchmarks/video_stride_square.py [STRIDE ...]     # default: 1 2 4 8
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_video import moving_square, write_video  # noqa: E402

import inrcodec  # noqa: E402
import inrcodec.rate.quality as quality_engine  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "square.mp4"
        write_video(clip, moving_square(16, 48, 64))
        for stride in tuple(int(a) for a in sys.argv[1:]) or (1, 2, 4, 8):
            quality_engine.VIDEO_TIME_STRIDE = stride
            for q in (0, 10, 30):
                r = inrcodec.encode(clip, steps=200, quality=q, device="cpu", segment=0)
                print(stride, q, r.bytes, round(r.psnr_db, 2), flush=True)


if __name__ == "__main__":
    main()
