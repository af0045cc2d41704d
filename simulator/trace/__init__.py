"""uavtwin package."""
