"""The Lab's feature groups as namespaces registered on its core (issue 19), polars' namespace registration the
model: ``lab.<name>`` is the group built on that Lab, its flat methods stay the public API, a group reaches
another only by name, and a registration never shadows what the Lab already has."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

from quantdb_lab.errors import InvalidRequestError
from quantdb_lab.lab import Lab, LabNamespace, register_lab_namespace
from quantdb_lab.lab.core import LabCore
from quantdb_lab.lab.pit import PointInTime
from tests.support.sim import make_lab


GROUPS = {
    "pit": ("securities", "index_members", "known_securities", "universe", "fundamentals", "valuation"),
    "corporate": ("actions",),
    "research": ("ask", "view"),
    "realtime": ("quotes", "watch"),
    "synthesis": ("synthesize",),
    "checks": ("quality", "dataset_quality", "minute_quality", "feedback", "feedback_log"),
    "portfolios": ("portfolio",),
    "warming": ("load_in_background", "tracking", "usage", "collect", "warm"),
    "market": ("scan", "missing", "panel", "universe_members"),
}


def test_every_feature_group_is_a_namespace_and_the_flat_api_is_theirs(tmp_path):
    lab, _, _ = make_lab(tmp_path)
    for name, methods in GROUPS.items():
        group = getattr(lab, name)
        assert isinstance(group, LabNamespace) and not isinstance(group, LabCore) and group.lab is lab
        for method in methods:
            member = inspect.getattr_static(type(group), method)
            if isinstance(member, property):  # a flat property reads the namespace's
                assert getattr(lab, method) is getattr(group, method) is not None, method
                assert inspect.getattr_static(Lab, method).__doc__ == member.__doc__
                continue
            flat = getattr(lab, method)
            assert flat.__func__ is getattr(type(group), method) and flat.__self__.lab is lab, method
            assert getattr(Lab, method).__doc__ == getattr(type(group), method).__doc__
    assert not issubclass(Lab, PointInTime)  # no longer a mixin of the Lab
    other = lab.using("backtesting")
    assert other.pit.lab is other and other.pit.lab.mode.name == "backtesting"
    assert other.checks.lab is other and other.market.lab is other


def test_the_lab_is_its_core_and_nothing_else():
    """No feature mixin is left: the Lab's classes are the core's, every feature group is registered on it."""
    assert Lab.__mro__ == (Lab, LabCore, object)
    import quantdb_lab.lab as package

    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"quantdb_lab.lab.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and issubclass(cls, LabCore):
                assert cls in (Lab, LabCore), f"{cls.__qualname__} in {module.__name__} builds on the Lab's core"
    registered = {name for name, value in vars(LabCore).items() if type(value).__name__ == "_Accessor"}
    assert registered >= set(GROUPS), set(GROUPS) - registered


def test_a_namespace_of_ones_own_is_registered_like_polars_and_never_shadows(tmp_path):
    @register_lab_namespace("test_extra", flat=("test_double_rows",))
    class Extra(LabNamespace):
        def test_double_rows(self, symbol: str) -> int:
            return 2 * self.lab.bars(symbol, start="2025-03-03", end="2025-03-07", adjust="").height

    try:
        lab, _, _ = make_lab(tmp_path)
        assert lab.test_extra.test_double_rows("600519") == lab.test_double_rows("600519") == 10
        for taken in ("bars", "quality", "pit", "securities"):
            with pytest.raises(InvalidRequestError, match="already has"):
                register_lab_namespace(taken)(type("Clash", (LabNamespace,), {}))
        with pytest.raises(InvalidRequestError, match="subclasses LabNamespace"):
            register_lab_namespace("test_other")(object)
    finally:
        del LabCore.test_extra, LabCore.test_double_rows
