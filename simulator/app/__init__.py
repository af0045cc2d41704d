"""The application layer: the ``uavtwin`` commands and the run orchestration behind them."""
