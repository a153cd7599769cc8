"""The Management API (Healthchecks-compatible v1/v2/v3), built on DRF."""
