"""Entry points of the order-processing application: the worker and the demo."""
