"""What moves in a trailer: dense optical flow and shot pace over runs of consecutive frames.

For each run (models.media.motion.FrameRuns), OpenCV's DIS flow (the ultrafast preset refined down to
half resolution, FINEST_SCALE; about 0.3 ms per 160x120 pair) between each pair of consecutive frames.
A pair is a cut when the flow cannot explain the change: the second frame differs from the first warped
by the flow by more than CUT_RESIDUAL (mean absolute grey level). Within shots, each flow field is split into the camera's motion (a least-squares
affine fit over the frame, refitted without the worst-fitting fifth of the pixels, which are taken to be
the moving objects) and what is left (the objects). Speeds are in frame widths per second, so they do
not depend on the resolution or the frame rate.

One row of MOTION_COLUMNS per run; a trailer's features are the (n_windows, len(MOTION_COLUMNS)) array.
"""

from functools import cache
from itertools import pairwise

import cv2
import numpy as np

from models.media.motion import FrameRuns

# the ultrafast preset stops at a quarter of the resolution, where a slow zoom (about 1 px per frame at the
# edges of a 160 px frame) is lost: on synthetic shots it told a creeping zoom from generic motion with
# ROC AUC 0.69, against 0.95 at half resolution (0.3 ms a pair instead of 0.08)
FINEST_SCALE = 1
CUT_RESIDUAL = 18.0  # grey levels (0..255) of mean motion-compensated difference that make a cut
DIRECTION_BINS = 8
SPEED_EDGES = (0.01, 0.03, 0.1, 0.3, 1.0)  # frame widths per second: the magnitude histogram's bin edges
OBJECT_SPEED = 0.05  # frame widths per second of residual flow that count a pixel as moving
FIT_STRIDE = 7  # the camera fit reads every 7th pixel (a prime: no aliasing with the rows)
PACE_COLUMNS = ("cuts_per_s", "longest_shot_share", "mean_change")
MOTION_COLUMNS = (
    *PACE_COLUMNS,
    "pan_speed", "pan_x", "pan_y", "shake", "zoom", "zoom_speed", "rotation",
    "flow_speed", "flow_speed_p90", "object_speed", "object_speed_p90", "moving_share",
    *(f"direction_{k}" for k in range(DIRECTION_BINS)),
    *(f"speed_bin_{k}" for k in range(len(SPEED_EDGES) + 1)),
)


def motion_features(runs: FrameRuns) -> np.ndarray:
    """(n_windows, len(MOTION_COLUMNS)) float32: each run's flow statistics, camera motion and shot pace."""
    flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
    flow.setFinestScale(FINEST_SCALE)
    return np.stack([_run_features(run, runs.fps, flow) for run in runs.frames]).astype(np.float32)


def _run_features(frames: np.ndarray, fps: float, flow) -> np.ndarray:
    height, width = frames.shape[1:]
    per_second = fps / width  # pixels per frame -> frame widths per second
    fields, cuts, changes = [], [], []
    for first, second in pairwise(frames):
        field = flow.calc(first, second, None)
        residual = _compensated_difference(first, second, field)
        changes.append(residual)
        cuts.append(residual > CUT_RESIDUAL)
        if not cuts[-1]:
            fields.append(field * per_second)
    duration = (len(frames) - 1) / fps
    pace = [sum(cuts) / duration, _longest_shot(cuts) / len(cuts), float(np.mean(changes)) / 255.0]
    return np.concatenate([pace, _flow_statistics(fields, width, height, fps)])


def _compensated_difference(first: np.ndarray, second: np.ndarray, field: np.ndarray) -> float:
    """Mean absolute difference between `second` and `first` moved along the flow (a cut leaves it large)."""
    grid_x, grid_y = _pixel_grid(*first.shape)
    # second(p) ~ first(p - flow(p)): sample the first frame where each pixel of the second came from
    warped = cv2.remap(first, grid_x - field[..., 0], grid_y - field[..., 1], cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_REPLICATE)
    return float(np.abs(warped.astype(np.float32) - second.astype(np.float32)).mean())


def _longest_shot(cuts: list[bool]) -> int:
    longest = current = 0
    for cut in cuts:
        current = 0 if cut else current + 1
        longest = max(longest, current)
    return longest


def _flow_statistics(fields: list[np.ndarray], width: int, height: int, fps: float) -> np.ndarray:
    """Camera motion, object motion and the direction and speed histograms of the shots' flow fields."""
    if not fields:  # every pair a cut
        return np.zeros(len(MOTION_COLUMNS) - len(PACE_COLUMNS))
    cameras, speeds, objects, directions = [], [], [], []
    for field in fields:
        camera, residual = _camera_motion(field, width, height)
        cameras.append(camera)
        speeds.append(np.hypot(field[..., 0], field[..., 1]).ravel())
        objects.append(np.hypot(residual[..., 0], residual[..., 1]).ravel())
        directions.append(field.reshape(-1, 2))
    cameras = np.array(cameras)  # (pairs, 4): pan x, pan y (frame widths / s), zoom, rotation (per second)
    speed, moving = np.concatenate(speeds), np.concatenate(objects)
    pan = cameras[:, :2].mean(axis=0)
    # shake: how much the camera's translation changes from frame to frame (a steady pan changes little)
    shake = float(np.abs(np.diff(cameras[:, :2], axis=0)).mean()) * fps if len(cameras) > 1 else 0.0
    zoom = cameras[:, 2].mean()  # log scale per second: > 0 in, < 0 out
    summary = [np.hypot(*pan), abs(pan[0]), abs(pan[1]), shake, zoom, abs(zoom), np.abs(cameras[:, 3]).mean(),
               speed.mean(), np.percentile(speed, 90), moving.mean(), np.percentile(moving, 90),
               (moving > OBJECT_SPEED).mean()]
    return np.concatenate([summary, _direction_histogram(np.concatenate(directions)),
                           np.bincount(np.digitize(speed, SPEED_EDGES), minlength=len(SPEED_EDGES) + 1) / len(speed)])


def _camera_motion(field: np.ndarray, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """(pan x, pan y, zoom, rotation) of an affine fit to the flow, and the flow left after it."""
    design = _affine_design(height, width)
    target = field.reshape(-1, 2)
    sample = slice(None, None, FIT_STRIDE)
    keep = np.ones(len(target[sample]), dtype=bool)
    for _ in range(2):
        coef, *_ = np.linalg.lstsq(design[sample][keep], target[sample][keep], rcond=None)
        error = np.hypot(*(target[sample] - design[sample] @ coef).T)
        keep = error <= np.percentile(error, 80)
    residual = (target - design @ coef).reshape(field.shape)
    (pan_x, pan_y), (du_dx, dv_dx), (du_dy, dv_dy) = coef
    return np.array([pan_x, pan_y, (du_dx + dv_dy) / 2, (dv_dx - du_dy) / 2]), residual


@cache
def _pixel_grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's x and y (float32, for cv2.remap), made once per frame size; read-only."""
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    grid_x.flags.writeable = grid_y.flags.writeable = False
    return grid_x, grid_y


@cache
def _affine_design(height: int, width: int) -> np.ndarray:
    """(pixels, 3): 1 and each pixel's x and y from the centre in frame widths, made once per frame size."""
    grid_x, grid_y = _pixel_grid(height, width)
    design = np.stack([np.ones(grid_x.size), (grid_x.ravel() - width / 2) / width,
                       (grid_y.ravel() - height / 2) / width], axis=1)
    design.flags.writeable = False
    return design


def _direction_histogram(vectors: np.ndarray) -> np.ndarray:
    """Share of the flow's magnitude in each of DIRECTION_BINS directions (zeros for a still picture)."""
    magnitude = np.hypot(vectors[:, 0], vectors[:, 1])
    angle = np.arctan2(vectors[:, 1], vectors[:, 0]) % (2 * np.pi)
    bins = (angle / (2 * np.pi) * DIRECTION_BINS).astype(int) % DIRECTION_BINS
    histogram = np.bincount(bins, weights=magnitude, minlength=DIRECTION_BINS)
    total = histogram.sum()
    return histogram / total if total > 1e-6 else histogram
