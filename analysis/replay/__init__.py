"""Replays of a run, from its trace alone: MP4 and GIF videos, stills, an interactive HTML page.

- :mod:`analysis.replay.scene`: what the replay shows at any time t (positions, hosts,
  states, twins in flight, counters), one definition shared by every output;
- :mod:`analysis.replay.timing`: the frame times (window, speed, fps);
- :mod:`analysis.replay.video`: matplotlib frames, MP4 (ffmpeg from imageio-ffmpeg), GIF
  (Pillow) and stills;
- :mod:`analysis.replay.html`: the self-contained HTML player and its decimation rule;
- :mod:`analysis.replay.browser`: a headless-Chromium driver used to test and time the page.

``uavtwin animate`` (``simulator/app/animate.py``) is the command; docs/animation.md the guide.
"""
