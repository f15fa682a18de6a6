"""SVG charts and the formatting/link helpers: values drawn, untrusted text escaped."""

from markupsafe import Markup

from flai.explorer import charts, fmt

ALICE = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"


def test_line_chart_draws_every_point_and_escapes_names():
    series = [
        charts.Series("<script>x</script>", ((1, 2.0), (2, 3.0), (3, 1.0))),
        charts.Series("b", ((1, 0.5),)),
    ]
    svg = charts.line_chart(series, title="t & u", x_label="round", y_label="φ")
    assert isinstance(svg, Markup)
    assert svg.count('class="point"') == 4 and svg.count('class="series"') == 2
    assert 'data-points="4"' in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "t &amp; u" in svg


def test_empty_charts_say_so_and_draw_nothing():
    assert "no data" in charts.line_chart([], title="t", x_label="x", y_label="y")
    empty = charts.bar_chart([("a", 0.0)], title="t", y_label="y")
    assert "no data" in empty and 'class="bar"' not in empty


def test_stacked_bars_have_one_segment_per_positive_value_scaled_to_the_tallest():
    svg = charts.stacked_bars(
        ["p", "q"], [("claimed", [1.0, 0.0]), ("open", [1.0, 2.0])], title="t", y_label="FLAI"
    )
    assert svg.count('class="bar"') == 3 and 'data-bars="3"' in svg
    heights = [
        float(h) for h in __import__("re").findall(r'class="bar"[^>]*height="([\d.]+)"', svg)
    ]
    assert abs(sum(heights[:2]) - heights[2]) < 0.2  # p's two halves stack to q's one bar


def test_progress_bar_is_capped_and_labelled():
    assert "100.0 %" in charts.progress_bar(5, 2, title="cf")
    assert "25.0 %" in charts.progress_bar(1, 4, title="cf")
    assert "0.0 %" in charts.progress_bar(1, 0, title="cf")


def test_amounts_fixed_point_text32_and_times():
    assert fmt.amount(1234 * 10**18 + 5 * 10**17) == "1,234.5"
    assert fmt.amount(10**12) == "0.000001" and fmt.amount(0) == "0"
    assert fmt.amount(None) == "–"
    assert fmt.amount(500, decimals=6) == "0.0005"
    assert fmt.fixed(350026 * 10**12) == "0.350026" and fmt.fixed(851234, 10**6, 4) == "0.8512"
    assert fmt.bps(3000) == "30.00 %"
    domain = "0x" + b"healthcare.oncology".ljust(32, b"\0").hex()
    assert fmt.text32(domain) == "healthcare.oncology"
    assert fmt.text32("0x" + "ff" * 32) == "0x" + "ff" * 32  # not text: stays hex
    assert fmt.timestamp(0) == "1970-01-01 00:00:00 UTC"


def test_links_escape_labels_and_quote_cids():
    link = fmt.link_address(ALICE, {ALICE: "<b>st-mary</b>"})
    assert f'href="/address/{ALICE}"' in link and "&lt;b&gt;st-mary&lt;/b&gt;" in link
    assert "0x0" in fmt.link_address("0x0000000000000000000000000000000000000000")
    assert 'href="/cid/a%2Fb%20c"' in fmt.link_cid("a/b c")
    assert 'href="/tx/0xab"' in fmt.link_tx("0xab")
    rendered = fmt.render_args({"account": ALICE, "specCid": "bafy1", "note": "<i>"})
    assert f"/address/{ALICE}" in rendered and "/cid/bafy1" in rendered
    assert "&lt;i&gt;" in rendered
