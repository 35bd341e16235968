import pytest

from quantdb_lab.domain.symbols import parse_symbol, parse_symbols
from quantdb_lab.errors import InvalidSymbolError


@pytest.mark.parametrize(
    "text, canonical, kind",
    [
        ("600519", "600519.SH", "stock"),
        ("sh600519", "600519.SH", "stock"),
        ("SH600519", "600519.SH", "stock"),
        ("600519.SH", "600519.SH", "stock"),
        ("600519.XSHG", "600519.SH", "stock"),
        ("sh.600519", "600519.SH", "stock"),
        (" 600519.sh ", "600519.SH", "stock"),
        ("000001", "000001.SZ", "stock"),
        ("sz000001", "000001.SZ", "stock"),
        ("000001.SZ", "000001.SZ", "stock"),
        ("sh000001", "000001.SH", "index"),
        ("000001.SH", "000001.SH", "index"),
        ("399001", "399001.SZ", "index"),
        ("csi000300", "000300.SH", "index"),
        ("000300.SH", "000300.SH", "index"),
        ("510300", "510300.SH", "etf"),
        ("159915", "159915.SZ", "etf"),
        ("300750", "300750.SZ", "stock"),
        ("688981", "688981.SH", "stock"),
        ("830799", "830799.BJ", "stock"),
        ("920001", "920001.BJ", "stock"),
        ("bj830799", "830799.BJ", "stock"),
        ("00700", "00700.HK", "stock"),
        ("hk00700", "00700.HK", "stock"),
        ("0700.HK", "00700.HK", "stock"),
    ],
)
def test_accepted_spellings(text, canonical, kind):
    symbol = parse_symbol(text)
    assert symbol.canonical == canonical
    assert symbol.kind == kind


def test_index_and_stock_never_collide():
    assert parse_symbol("000001.SH") != parse_symbol("000001.SZ")
    assert parse_symbol("sh000001").kind == "index"
    assert parse_symbol("000001").kind == "stock"


@pytest.mark.parametrize("text", ["", "abc", "6005", "6005190", "600519.XX", "338", "7000000", "sh60051", None, 600519])
def test_rejects_malformed(text):
    with pytest.raises(InvalidSymbolError):
        parse_symbol(text)


def test_invalid_symbol_is_a_value_error_with_the_symbol():
    with pytest.raises(ValueError) as info:
        parse_symbol("abc")
    assert info.value.symbol == "abc"
    assert "abc" in str(info.value)


@pytest.mark.parametrize(
    "text, board",
    [("600519", "main"), ("000001", "main"), ("300750", "chinext"), ("688981", "star"), ("830799", "beijing")],
)
def test_board(text, board):
    assert parse_symbol(text).board == board


def test_parse_symbols_dedupes_in_order():
    assert [s.canonical for s in parse_symbols(["600519", "sh600519", "000001"])] == ["600519.SH", "000001.SZ"]
    with pytest.raises(InvalidSymbolError):
        parse_symbols([])
