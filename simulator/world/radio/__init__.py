"""The radio between UAVs and RSUs: path-loss models, the channel of a pricing round, and
coverage defined by the mean SNR.

Modules: :mod:`~simulator.world.radio.core` (dB arithmetic, SNR, spectral efficiency, the
distance-only models), :mod:`~simulator.world.radio.air_to_ground` (Al-Hourani et al. 2014),
:mod:`~simulator.world.radio.aerial_3gpp` (3GPP TR 36.777 aerial UE), the model registry
:mod:`~simulator.world.radio.registry`, :mod:`~simulator.world.radio.channel` (gains of a
pricing round, shadowing) and :mod:`~simulator.world.radio.coverage` (cells where the mean
SNR reaches a threshold, with exact crossing times).
"""
