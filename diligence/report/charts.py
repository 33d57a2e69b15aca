"""The kit's charts: seaborn/matplotlib in one house style, each returning a Figure.

Figures are built as :class:`ReportFigure` (a :class:`matplotlib.figure.Figure`)
directly rather than through ``pyplot``: they are never registered with pyplot, so
Jupyter's inline backend does not show them a second time at the end of the cell,
nothing needs closing, and no GUI backend is ever touched (safe under Agg and in
parallel kernels). Since no pyplot backend is involved, the figure renders itself
for Jupyter (``_repr_png_``): the notebook displays the returned figure
(``display(fig)`` or as the cell's last expression) and it is embedded as a PNG.

Fonts are DejaVu Sans (shipped with matplotlib, so identical offline and on every
machine); colours come from :data:`PALETTE`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
import seaborn as sns
from cycler import cycler
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from diligence.report.formats import FORMATTERS, check_kind, humanize, infer_kind

#: Navy first (the "one colour" of single-series charts), then contrasting hues.
PALETTE: list[str] = ["#1f3b5c", "#e07a5f", "#3f7cac", "#81b29a", "#f2cc8f", "#6d597a", "#95b8d1", "#b5838d"]
INK = "#1f2933"
MUTED = "#616e7c"

HOUSE_RC: dict[str, Any] = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 9.5,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.titlepad": 10,
    "axes.labelsize": 9.5,
    "axes.labelcolor": MUTED,
    "axes.edgecolor": "#9aa5b1",
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "axes.facecolor": "white",
    "axes.prop_cycle": cycler(color=PALETTE),
    "grid.color": "#e4e7eb",
    "grid.linewidth": 0.8,
    "text.color": INK,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "legend.frameon": False,
    "legend.fontsize": 8.5,
    "figure.facecolor": "white",
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "savefig.facecolor": "white",
    "image.cmap": "Blues",
}

WIDTH = 7.5  # inches: fits the report's text column at 100 dpi
MAX_HEIGHT = 11.0
#: Lines a line chart names one by one, in its legend; with more (a large
#: company's hundreds of ramping reps) each is drawn faint, and their median over them.
MAX_NAMED_LINES = 12
#: Horizontal bars that can still carry a readable name and value each (about 8
#: points of the tallest figure per bar); more are drawn as one shape, unlabelled.
MAX_LABELLED_BARS = 100


class ReportFigure(Figure):
    """A Figure that displays itself in Jupyter as a PNG, whatever the matplotlib backend."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        with mpl.rc_context(HOUSE_RC):
            self.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()


def set_style() -> None:
    """Apply the house style to everything the notebook draws (seaborn theme + rcParams).

    The chart functions below apply the same style themselves, so their output does
    not depend on whether (or when) this was called.
    """
    sns.set_theme(style="whitegrid", palette=PALETTE, font="DejaVu Sans", rc=HOUSE_RC)


def _figure(width: float, height: float) -> tuple[Figure, Any]:
    """A figure outside pyplot with one Axes, constrained layout."""
    fig = ReportFigure(figsize=(width, min(max(height, 2.0), MAX_HEIGHT)), layout="constrained")
    return fig, fig.subplots()


def _colors(n: int) -> list[str]:
    """``n`` colours from the palette, repeating it when there are more levels than colours."""
    return [PALETTE[i % len(PALETTE)] for i in range(n)]


def _axis_formatter(kind: str) -> Any:
    """Tick formatter for a value axis of ``kind``."""
    if kind == "pct":
        return PercentFormatter(xmax=1.0, decimals=0)
    if kind == "int":
        return FuncFormatter(lambda v, _: f"{v:,.0f}")
    return FuncFormatter(lambda v, _: FORMATTERS[kind](v))


def _no_data(fig: Figure, ax: Any, title: str | None) -> Figure:
    ax.set_axis_off()
    ax.text(0.5, 0.5, "No data to show", ha="center", va="center", color=MUTED, transform=ax.transAxes)
    if title:
        ax.set_title(title)
    return fig


def _labels(s: pd.Series) -> pd.Series:
    """Category labels as plain text (seaborn then treats them as categories, in order)."""
    return s.astype(object).where(s.notna(), "(blank)").astype(str).astype(object)


def bar(
    df: pd.DataFrame,
    x: str,
    y: str,
    *,
    title: str | None = None,
    fmt: str = "int",
    horizontal: bool = True,
    hue: str | None = None,
) -> Figure:
    """Bar chart of one number per category, with value labels.

    Parameters
    ----------
    df
        Tidy frame, one row per bar (per category and hue level). Bars keep the
        frame's row order: sort it first.
    x
        The category column (one bar per value).
    y
        The numeric column (bar length).
    title
        A short title, top left.
    fmt
        How values read on the axis and labels: ``int``, ``pct`` (0–1 fractions),
        ``money``, ``ratio`` or ``num``.
    horizontal
        Categories down the side (default, best for long account or rep names) or
        along the bottom.
    hue
        Optional column splitting each bar into side-by-side bars.
    """
    hue = hue if hue is not None and hue in df.columns else None  # an absent column is no split
    with mpl.rc_context(HOUSE_RC):
        check_kind(fmt)
        data = df.assign(**{x: _labels(df[x])})
        if hue is not None:
            data = data.assign(**{hue: _labels(data[hue])})
        order = list(pd.unique(data[x]))
        n_bars = len(order) * (max(data[hue].nunique(), 1) if hue else 1)
        # Vertical bars share the page width; a long series gets thinner bars, not a wider image.
        size = (WIDTH, 0.9 + 0.32 * n_bars) if horizontal else (WIDTH, 3.8)
        fig, ax = _figure(*size)
        if data.empty:
            return _no_data(fig, ax, title)
        if horizontal and n_bars > MAX_LABELLED_BARS:
            return _many_bars(fig, ax, data, x, y, fmt, title, order, hue)
        sns.barplot(
            data=data,
            x=y if horizontal else x,
            y=x if horizontal else y,
            hue=hue,
            order=order,
            orient="h" if horizontal else "v",
            errorbar=None,
            color=None if hue else PALETTE[0],
            palette=_colors(data[hue].nunique()) if hue else None,
            ax=ax,
        )
        value_axis = ax.xaxis if horizontal else ax.yaxis
        value_axis.set_major_formatter(_axis_formatter(fmt))
        if fmt == "int":  # no tick at 2.5 hires
            value_axis.set_major_locator(MaxNLocator(integer=True))
        label = FORMATTERS[fmt]
        crowded = not horizontal and n_bars > 18  # value labels would overlap: the axis reads instead
        for container in [] if crowded else ax.containers:
            ax.bar_label(
                container,
                labels=[label(v) if np.isfinite(v) else "" for v in container.datavalues],
                padding=3,
                fontsize=8,
                color=INK,
            )
        ax.margins(**({"x": 0.12} if horizontal else {"y": 0.12}))
        ax.set_xlabel(humanize(y) if horizontal else "")
        ax.set_ylabel("" if horizontal else humanize(y))
        (ax.yaxis if horizontal else ax.xaxis).grid(False)
        if not horizontal and len(order) > 6:
            ax.tick_params(axis="x", labelrotation=90 if crowded else 35, labelsize=8 if crowded else None)
            for tick in ax.get_xticklabels():
                tick.set_horizontalalignment("right")
        if hue:
            ax.legend(title=humanize(hue), loc="best")
        if title:
            ax.set_title(title)
        return fig


def _many_bars(
    fig: Figure,
    ax: Any,
    data: pd.DataFrame,
    x: str,
    y: str,
    fmt: str,
    title: str | None,
    order: list[Any],
    hue: str | None = None,
) -> Figure:
    """:func:`bar` for more horizontal bars than can be named: every bar, in the
    frame's order from the top (a ``hue`` split side by side, as seaborn dodges
    it), each colour drawn as one collection of rectangles; the category axis
    says how many there are instead of naming each (the table beside it does)."""
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    position = pd.Series(np.arange(len(order)), index=pd.Index(order, dtype=object))
    levels = list(pd.unique(data[hue])) if hue else [None]
    width = 0.8 / len(levels)
    every = []
    for j, level in enumerate(levels):
        rows = data if hue is None else data.loc[(data[hue] == level).to_numpy(bool)]
        values = np.nan_to_num(pd.to_numeric(rows[y], errors="coerce").to_numpy(dtype=float))
        top = position.loc[rows[x].to_numpy(dtype=object)].to_numpy(dtype=float) - 0.4 + j * width
        zero = np.zeros_like(values)
        xs = np.stack([zero, values, values, zero], axis=1)
        ys = np.stack([top, top, top + width, top + width], axis=1)
        # one collection per colour: thousands of separate patches take minutes to lay out
        ax.add_collection(
            PolyCollection(np.stack([xs, ys], axis=2), facecolors=PALETTE[j % len(PALETTE)], linewidths=0)
        )
        every.append(values)
    values = np.concatenate(every) if every else np.zeros(1)
    lo, hi = min(0.0, float(values.min(initial=0.0))), max(0.0, float(values.max(initial=0.0)))
    ax.set_xlim(lo - 0.12 * (hi - lo) * (lo < 0), hi + 0.12 * (hi - lo) if hi > lo else 1.0)
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.set_yticks([])
    ax.xaxis.set_major_formatter(_axis_formatter(fmt))
    if fmt == "int":
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(humanize(y))
    ax.set_ylabel(f"{len(order):,} bars, one per {humanize(x).lower()}, in the table's order")
    ax.yaxis.grid(False)
    if hue:
        handles = [Patch(color=PALETTE[j % len(PALETTE)], label=str(level)) for j, level in enumerate(levels)]
        ax.legend(handles=handles, title=humanize(hue), loc="lower right")
    if title:
        ax.set_title(title)
    return fig


def stacked_share(df: pd.DataFrame, index: str, columns: str, values: str, *, title: str | None = None) -> Figure:
    """100% stacked horizontal bars: the mix of ``columns`` within each ``index`` value.

    ``values`` are summed per (index, columns) pair and divided by the row total, so
    each bar reads as shares adding to 100% (e.g. rep-assigned / partner-only /
    unassigned accounts by segment). Shares of 8% or more are labelled.
    """
    with mpl.rc_context(HOUSE_RC):
        data = df.assign(**{index: _labels(df[index]), columns: _labels(df[columns])})
        table = data.pivot_table(index=index, columns=columns, values=values, aggfunc="sum", fill_value=0, sort=True)
        totals = table.sum(axis=1)
        share = table.div(totals.where(totals != 0), axis=0).fillna(0.0)
        fig, ax = _figure(WIDTH, 1.1 + 0.42 * len(share))
        if share.empty:
            return _no_data(fig, ax, title)
        share.plot.barh(stacked=True, ax=ax, color=_colors(share.shape[1]), width=0.7, edgecolor="white", linewidth=0.6)
        for container in ax.containers:
            ax.bar_label(
                container,
                labels=[f"{w:.0%}" if w >= 0.08 else "" for w in container.datavalues],
                label_type="center",
                fontsize=8,
                color="white",
            )
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
        ax.invert_yaxis()  # first category on top, as in a table
        ax.yaxis.grid(False)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.legend(title=humanize(columns), loc="upper left", bbox_to_anchor=(1.01, 1.0))
        if title:
            ax.set_title(title)
        return fig


def heatmap(df: pd.DataFrame, *, title: str | None = None, fmt: str = "int") -> Figure:
    """Annotated heatmap of a matrix (index × columns), e.g. accounts by segment × region.

    Cells are labelled in ``fmt`` (``int`` or ``pct``, also ``money``, ``ratio``,
    ``num``); missing cells stay blank. The colour scale is sequential navy.
    """
    with mpl.rc_context(HOUSE_RC):
        check_kind(fmt)
        matrix = df.apply(pd.to_numeric, errors="coerce").astype(float)
        matrix = matrix.set_axis(matrix.index.map(str), axis=0).set_axis(matrix.columns.map(str), axis=1)
        fig, ax = _figure(min(max(2.5 + 0.95 * matrix.shape[1], 4.0), WIDTH + 2), 1.2 + 0.42 * matrix.shape[0])
        if matrix.empty or matrix.isna().all().all():
            return _no_data(fig, ax, title)
        annot = matrix.map(lambda v: "" if np.isnan(v) else FORMATTERS[fmt](v))
        sns.heatmap(
            matrix,
            annot=annot.to_numpy(),
            fmt="",
            cmap=sns.light_palette(PALETTE[0], as_cmap=True),
            cbar=False,
            linewidths=0.6,
            linecolor="white",
            annot_kws={"fontsize": 8},
            ax=ax,
        )
        ax.grid(False)
        ax.set_xlabel(humanize(matrix.columns.name or ""))
        ax.set_ylabel(humanize(matrix.index.name or ""))
        ax.tick_params(axis="both", length=0)
        ax.tick_params(axis="y", labelrotation=0)
        if title:
            ax.set_title(title)
        return fig


def scatter(df: pd.DataFrame, x: str, y: str, *, hue: str | None = None, title: str | None = None) -> Figure:
    """Scatter of two numeric columns (e.g. book potential vs attainment per rep).

    Axes are formatted from the column names (``*_pct`` as %, potential as money…,
    see :func:`~diligence.report.formats.infer_kind`); ``hue`` colours points by a
    category.
    """
    hue = hue if hue is not None and hue in df.columns else None  # an absent column is no split
    with mpl.rc_context(HOUSE_RC):
        data = df if hue is None else df.assign(**{hue: _labels(df[hue])})
        fig, ax = _figure(WIDTH, 4.2)
        if data.empty or data[[x, y]].dropna().empty:
            return _no_data(fig, ax, title)
        hue_order: Sequence[str] | None = sorted(data[hue].unique()) if hue else None
        sns.scatterplot(
            data=data,
            x=x,
            y=y,
            hue=hue,
            hue_order=hue_order,
            palette=_colors(len(hue_order)) if hue_order else None,
            color=None if hue else PALETTE[0],
            s=42,
            alpha=0.85,
            edgecolor="white",
            linewidth=0.5,
            ax=ax,
        )
        for axis, col in ((ax.xaxis, x), (ax.yaxis, y)):
            kind = infer_kind(col, data[col].dtype)
            if kind in FORMATTERS and kind not in ("date", "bool", "text"):
                axis.set_major_formatter(_axis_formatter(kind))
        ax.set_xlabel(humanize(x))
        ax.set_ylabel(humanize(y))
        if hue:
            ax.legend(title=humanize(hue), loc="upper left", bbox_to_anchor=(1.01, 1.0))
        if title:
            ax.set_title(title)
        return fig


def histogram(
    df: pd.DataFrame,
    column: str,
    *,
    reference: float | None = None,
    reference_label: str | None = None,
    fmt: str = "pct",
    bins: int = 20,
    title: str | None = None,
) -> Figure:
    """Histogram of one numeric column (e.g. attainment of each rep), with an
    optional vertical reference line (e.g. quota at 100%) labelled ``reference_label``."""
    with mpl.rc_context(HOUSE_RC):
        check_kind(fmt)
        values = pd.to_numeric(df[column], errors="coerce").dropna().astype(float) if column in df else pd.Series()
        fig, ax = _figure(WIDTH, 3.4)
        if values.empty:
            return _no_data(fig, ax, title)
        sns.histplot(x=values.to_numpy(), bins=bins, color=PALETTE[0], edgecolor="white", ax=ax)
        if reference is not None:
            ax.axvline(reference, color=PALETTE[1], linewidth=1.6, linestyle="--")
            if reference_label:
                ax.text(
                    reference,
                    0.97,
                    f" {reference_label}",
                    color=PALETTE[1],
                    va="top",
                    transform=ax.get_xaxis_transform(),
                )
        ax.xaxis.set_major_formatter(_axis_formatter(fmt))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(humanize(column))
        ax.set_ylabel("reps" if "rep" in column or column == "attainment" else "count")
        ax.xaxis.grid(False)
        if title:
            ax.set_title(title)
        return fig


def lines(
    df: pd.DataFrame,
    x: str,
    y: str,
    *,
    hue: str | None = None,
    reference: str | None = None,
    reference_label: str | None = None,
    fmt_x: str = "int",
    fmt_y: str = "money",
    diagonal: bool = False,
    title: str | None = None,
) -> Figure:
    """Line chart of ``y`` against ``x``, one line per ``hue`` level.

    ``reference`` names a column drawn as one dashed line (e.g. where a fully
    productive rep would stand), ``diagonal`` adds the line y = x (the equal
    share of a Lorenz curve). Lines keep the frame's order within each level.
    With more than :data:`MAX_NAMED_LINES` levels the lines are drawn faint,
    in one colour, and the median of ``y`` at each ``x`` over them stands out.
    """
    hue = hue if hue is not None and hue in df.columns else None
    with mpl.rc_context(HOUSE_RC):
        check_kind(fmt_x)
        check_kind(fmt_y)
        fig, ax = _figure(WIDTH, 3.8)
        if df.empty or df[[x, y]].dropna().empty:
            return _no_data(fig, ax, title)
        data = df if hue is None else df.assign(**{hue: _labels(df[hue])})
        levels = list(pd.unique(data[hue])) if hue else [None]
        named = len(levels)  # lines the legend would name
        if len(levels) > MAX_NAMED_LINES:
            # too many to tell apart: the crowd, and its middle
            origin = [np.zeros((1, 2))] if diagonal else []
            crowd = [np.concatenate([*origin, g[[x, y]].to_numpy(float)]) for _, g in data.groupby(hue, sort=False)]
            ax.add_collection(
                LineCollection(
                    crowd,
                    colors=MUTED,
                    linewidths=0.6,
                    alpha=0.3,
                    label=f"each {humanize(hue.removesuffix('_name')).lower()}",
                )
            )
            middle = data[[x, y]].dropna().groupby(x)[y].median()
            ax.plot(
                middle.index.to_numpy(float),
                middle.to_numpy(float),
                color=PALETTE[0],
                linewidth=2.2,
                label=f"median of the {len(levels):,}",
            )
            ax.autoscale_view()
            named = 2  # the crowd and its median
        else:
            for level, color in zip(levels, _colors(len(levels))):
                part = data if level is None else data.loc[data[hue] == level]
                ax.plot(part[x].to_numpy(float), part[y].to_numpy(float), color=color, linewidth=1.6, label=level)
        if reference is not None and reference in data:
            ref = data[[x, reference]].dropna().drop_duplicates(x).sort_values(x)
            ax.plot(
                ref[x].to_numpy(float),
                ref[reference].to_numpy(float),
                color=MUTED,
                linestyle="--",
                linewidth=1.4,
                label=reference_label or humanize(reference),
            )
        if diagonal:  # a Lorenz-style curve: it starts at the origin, beside the line of equal shares
            for line in ax.get_lines():
                line.set_data(np.r_[0.0, line.get_xdata()], np.r_[0.0, line.get_ydata()])
            ax.plot([0.0, 1.0], [0.0, 1.0], color=MUTED, linestyle=":", linewidth=1.2, label="equal shares")
        ax.xaxis.set_major_formatter(_axis_formatter(fmt_x))
        ax.yaxis.set_major_formatter(_axis_formatter(fmt_y))
        ax.set_xlabel(humanize(x))
        ax.set_ylabel(humanize(y))
        if hue or reference is not None or diagonal:
            n_labels = named + (reference is not None) + diagonal
            if n_labels <= 12:
                ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
        if title:
            ax.set_title(title)
        return fig


def tradeoff(curve: pd.DataFrame, recommended: float | None = None, *, title: str | None = None) -> Figure:
    """The balance-vs-moves trade-off: balance tolerance (±%) against accounts
    moved, one point per tolerance of ``curve`` (:mod:`diligence.scenarios.curve`),
    the recommended tolerance ringed and labelled."""
    with mpl.rc_context(HOUSE_RC):
        fig, ax = _figure(WIDTH, 3.6)
        if curve.empty:
            return _no_data(fig, ax, title)
        x = curve["moves"].to_numpy(float)
        y = curve["tolerance"].to_numpy(float)
        ax.plot(x, y, color=PALETTE[0], linewidth=1.6, marker="o", markersize=5)
        for xi, yi, out in zip(x, y, curve["books_outside"].to_numpy(int)):
            note = f"±{yi * 100:g}%" + (f" · {out} outside" if out else "")
            ax.annotate(note, (xi, yi), textcoords="offset points", xytext=(7, 4), fontsize=8, color=MUTED)
        if recommended is not None and np.isclose(y, recommended).any():
            k = int(np.flatnonzero(np.isclose(y, recommended))[0])
            ax.scatter([x[k]], [y[k]], s=180, facecolors="none", edgecolors=PALETTE[1], linewidths=2, zorder=3)
            ax.annotate(
                "recommended",
                (x[k], y[k]),
                textcoords="offset points",
                xytext=(10, -14),  # clear of the ring around the point
                fontsize=8.5,
                color=PALETTE[1],
                fontweight="bold",
            )
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"±{v * 100:g}%"))
        ax.xaxis.set_major_formatter(_axis_formatter("int"))
        ax.set_xlabel("Accounts moved")
        ax.set_ylabel("Balance tolerance (±)")
        ax.set_xlim(left=min(0.0, float(x.min())), right=float(x.max()) * 1.2 + 1)
        if title:
            ax.set_title(title)
        return fig


def small_multiples(
    df: pd.DataFrame, label: str, panels: Sequence[tuple[str, str, str]], *, title: str | None = None
) -> Figure:
    """One small bar chart per ``(column, panel title, kind)`` of ``panels``,
    a bar per row of ``df`` named by ``label``, all panels sharing the rows'
    order and colours: plans side by side."""
    with mpl.rc_context(HOUSE_RC):
        n = len(panels)
        cols = 3 if n > 4 else max(n, 1)
        rows = int(np.ceil(n / cols)) if n else 1
        fig = ReportFigure(figsize=(WIDTH, min(2.3 * rows + 0.9, MAX_HEIGHT)), layout="constrained")
        axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
        names = _labels(df[label]).tolist() if len(df) else []
        colors = _colors(len(names))
        for ax, (column, panel, kind) in zip(axes, panels):
            values = pd.to_numeric(df[column], errors="coerce").astype(float).to_numpy() if len(df) else np.zeros(0)
            ax.barh(np.arange(len(names)), np.nan_to_num(values), color=colors)
            ax.set_yticks(np.arange(len(names)), [str(i + 1) for i in range(len(names))])
            ax.invert_yaxis()
            ax.xaxis.set_major_formatter(_axis_formatter(kind))
            ax.xaxis.set_major_locator(MaxNLocator(3))
            ax.set_title(panel, fontsize=9)
            ax.tick_params(labelsize=8)
        for ax in axes[n:]:
            ax.set_axis_off()
        if names:
            handles = [
                mpl.patches.Patch(color=c, label=f"{i + 1}  {name}") for i, (c, name) in enumerate(zip(colors, names))
            ]
            fig.legend(handles=handles, loc="outside lower center", ncols=min(len(names), 3), fontsize=8)
        if title:
            fig.suptitle(title, x=0.0, ha="left", fontweight="bold", fontsize=11)
        return fig


def tornado(df: pd.DataFrame, base: float | None, *, title: str | None = None, fmt: str = "money") -> Figure:
    """A tornado chart: for each row of ``df`` (``label, value_at_low,
    value_at_high, low_text, high_text``), a bar from the value at one end of
    the assumption to the other, around the ``base`` value, widest on top."""
    with mpl.rc_context(HOUSE_RC):
        check_kind(fmt)
        fig, ax = _figure(WIDTH, 0.55 * len(df) + 1.4)
        if df.empty or base is None:
            return _no_data(fig, ax, title)
        for i, r in enumerate(df.itertuples(index=False)):
            lo, hi = float(r.value_at_low), float(r.value_at_high)
            ends = sorted(
                ((lo, r.low_text, PALETTE[1]), (hi, r.high_text, PALETTE[2])), key=lambda e: -abs(e[0] - base)
            )
            for value, _text, color in ends:  # the longer bar first, the shorter drawn over it
                ax.barh(i, value - base, left=base, color=color, height=0.6)
            labels = [(v, t) for v, t, _ in ends if abs(v - base) > 1e-9 * max(abs(base), 1.0)]
            if len(labels) == 2 and (labels[0][0] - base) * (labels[1][0] - base) > 0:  # both ends on one side
                labels = [(labels[0][0], f"{labels[1][1]} … {labels[0][1]}")]
            for value, text in labels:
                right = value >= base
                ax.annotate(
                    text,
                    (value, i),
                    textcoords="offset points",
                    xytext=(4 if right else -4, 0),
                    ha="left" if right else "right",
                    va="center",
                    fontsize=8,
                    color=MUTED,
                )
        ax.axvline(base, color=INK, linewidth=1)
        ax.set_yticks(np.arange(len(df)), df["label"].astype(str).tolist())
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        ax.xaxis.set_major_formatter(_axis_formatter(fmt))
        span = max(
            float(df[["value_at_low", "value_at_high"]].max().max()) - base,
            base - float(df[["value_at_low", "value_at_high"]].min().min()),
            1.0,
        )
        ax.set_xlim(base - 1.35 * span, base + 1.35 * span)
        ax.set_xlabel(
            f"Value of the plan (base {FORMATTERS[fmt](base)}): low end of the assumption orange, high end blue"
        )
        if title:
            ax.set_title(title)
        return fig
