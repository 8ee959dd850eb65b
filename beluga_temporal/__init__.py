"""beluga-temporal."""
