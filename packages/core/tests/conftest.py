"""Settings shared by the core test suites."""

# Loaded machines (CI shares two cores) make data generation slow: speed is not what these tests check.
from hypothesis import HealthCheck as _HealthCheck
from hypothesis import settings as _hypothesis_settings

_hypothesis_settings.register_profile("kinto", deadline=None, suppress_health_check=[_HealthCheck.too_slow])
_hypothesis_settings.load_profile("kinto")
