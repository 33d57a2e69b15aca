"""report.html: the executed notebooks merged into one self-contained, client-ready page.

The notebooks are merged cell by cell (markdown and outputs only; no code, no
parameters, no stderr, no errors), each notebook becoming one ``<section>``, then
converted with nbconvert's HTMLExporter and the kit's own template
(``templates/report/``), which adds the cover, the executive-summary scorecard and
the table of contents, and inlines the CSS. A final pass removes anything that could
make the browser contact another host, so the file opens offline and prints.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter
from nbformat import NotebookNode

import diligence
from diligence.params import ASSUMED_SOURCES, DEFAULTS
from diligence.registry import BY_ID
from diligence.report.definitions import metric_definitions, metric_label, potential_basis_text
from diligence.report.formats import (
    flag_rows,
    flag_threshold_text,
    fmt_int,
    format_value,
    humanize,
    is_missing,
    value_kind,
)
from diligence.report.narrative import key_findings, potential_card
from diligence.report.quality import data_quality_line
from diligence.report.safe import css_string, slugify
from diligence.resources import templates_dir

TEMPLATES_DIR = templates_dir()
TEMPLATE_NAME = "report"

#: Cells with these tags never reach the report.
DROP_TAGS = frozenset({"parameters", "injected-parameters", "remove", "papermill-error-cell-tag"})
#: Output data kept, richest first; one of them per output.
KEEP_MIMES = ("text/html", "image/png", "text/plain")
#: text/plain reprs that are plotting noise, not content (``<Figure size …>``, ``[<matplotlib…>]``).
_PLOT_REPR = re.compile(r"^\s*\[?\s*<(?:Figure size|Axes|matplotlib|seaborn)")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)

#: Headline metrics on the cover, in order: (metric, label, kind); a label of None is the
#: metric's own (:func:`~diligence.report.definitions.metric_label`). Absent ones are skipped.
HEADLINE_METRICS: tuple[tuple[str, str, str], ...] = (
    ("accounts_total", "Accounts", "int"),
    ("rep_assigned_pct", "Rep-assigned accounts", "pct"),
    ("unassigned_pct", "Unassigned accounts", "pct"),
    ("unassigned_potential_pct", "Potential in unassigned accounts", "pct"),
    ("contacted_90d_pct", None, "pct"),  # labelled with the run's active window
    ("win_rate", "Win rate (12 months)", "pct"),
    ("pipeline_coverage_median", "Median pipeline coverage", "ratio"),
    ("white_space_cells", "White-space cells", "int"),
)


def _clean_output(output: Mapping[str, Any]) -> NotebookNode | None:
    """One output as the report shows it, or None when it has nothing for a client.

    stdout text is kept; stderr and errors are dropped. Rich outputs keep only their
    richest kept representation (HTML, then PNG, then plain text), and a plain-text
    repr of a plotting object is noise.
    """
    kind = output.get("output_type")
    if kind == "stream":
        text = output.get("text", "")
        if output.get("name") != "stdout" or not str(text).strip():
            return None
        return nbformat.v4.new_output("stream", name="stdout", text=text)
    if kind not in ("display_data", "execute_result"):
        return None
    data = output.get("data", {})
    mime = next((m for m in KEEP_MIMES if m in data), None)
    if mime is None:
        return None
    value = data[mime]
    if mime == "text/plain" and _PLOT_REPR.match("".join(value) if isinstance(value, list) else str(value)):
        return None
    meta = {}
    if mime == "image/png":
        dims = (output.get("metadata") or {}).get("image/png", output.get("metadata") or {})
        meta = {"image/png": {k: dims[k] for k in ("width", "height") if k in dims}}
    return nbformat.v4.new_output("display_data", data={mime: value}, metadata=meta)


def _section_title(cells: Sequence[NotebookNode], path: Path) -> str:
    """The notebook's first markdown heading, else its file name (``03_balance`` → "Balance")."""
    for cell in cells:
        if cell.cell_type == "markdown":
            match = _HEADING.search(cell.source)
            if match:
                return re.sub(r"[*_`]+", "", match.group(2)).strip() or path.stem
    return humanize(re.sub(r"^\d+[_-]*", "", path.stem)) or path.stem


def _failed(nb: NotebookNode) -> bool:
    return bool(nb.metadata.get("papermill", {}).get("exception"))


def merge_notebooks(notebooks: Sequence[Path]) -> tuple[NotebookNode, list[dict[str, str]]]:
    """Merge executed notebooks, in order, into one notebook for the report.

    Parameters
    ----------
    notebooks
        Paths of papermill-executed notebooks, in run order; those whose
        metadata says ``diligence.appendix`` move to the end, titled as appendices.

    Returns
    -------
    (notebook, sections)
        The merged notebook: markdown cells and code cells reduced to their kept
        outputs (code removed; cells tagged parameters, injected-parameters or
        remove dropped; cells left without output dropped), each cell given a
        stable id. The first kept cell of each notebook carries
        ``metadata.dk_section = {"id", "title"}`` and its last kept cell
        ``metadata.dk_section_end``, from which the template builds the
        ``<section>`` elements; ``sections`` lists them for the table of contents.

    Raises
    ------
    ValueError
        If a notebook is marked as failed by papermill: a failed step must never
        be rendered as a client report.
    """
    merged = nbformat.v4.new_notebook()
    sections: list[dict[str, str]] = []
    read = [(Path(p), nbformat.read(p, as_version=4)) for p in notebooks]
    # Steps marked as appendices (metadata diligence.appendix) follow the diagnostic.
    read.sort(key=lambda pair: bool(pair[1].metadata.get("diligence", {}).get("appendix")))
    for path, nb in read:
        appendix = bool(nb.metadata.get("diligence", {}).get("appendix"))
        if _failed(nb):
            raise ValueError(f"{path.name}: the notebook failed during execution; no report is rendered from it.")
        kept = []
        for cell in nb.cells:
            if DROP_TAGS & set(cell.get("metadata", {}).get("tags", [])):
                continue
            if cell.cell_type == "markdown" and cell.source.strip():
                md = nbformat.v4.new_markdown_cell(cell.source)
                if cell.get("attachments"):
                    md.attachments = copy.deepcopy(cell.attachments)
                kept.append(md)
            elif cell.cell_type == "code":
                outputs = [o for o in map(_clean_output, cell.get("outputs", [])) if o is not None]
                if outputs:
                    kept.append(nbformat.v4.new_code_cell(source="", outputs=outputs))
        if not kept:
            continue
        title = ("Appendix: " if appendix else "") + _section_title(kept, path)
        section = {"id": f"section-{len(sections) + 1}-{slugify(title, max_len=40)}", "title": title}
        sections.append(section)
        kept[0].metadata["dk_section"] = dict(section)
        kept[-1].metadata["dk_section_end"] = True
        merged.cells.extend(kept)
    for i, cell in enumerate(merged.cells):
        cell.id = f"dk-cell-{i:04d}"
    return merged, sections


def report_context(
    findings: Mapping[str, Any],
    sections: Sequence[Mapping[str, str]],
    *,
    prepared_by: str = "",
    data_period: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    potential: Mapping[str, Any] | None = None,
    changes: Mapping[str, Any] | None = None,
    assumptions: Any = None,
) -> dict[str, Any]:
    """What the template's cover, summary, contents and methodology appendix
    show, all as plain text. ``potential`` is what the run recorded of its
    potential (:func:`diligence.execution.potential.read`), for the model card;
    ``changes`` the "What changed" section after the executive summary
    (:func:`diligence.report.changes.change_section`), None without an earlier run.
    ``assumptions`` the scenario step's "Capacity plan inputs" table, for the
    appendix's scenario assumptions.

    The template escapes every value; nothing here is markup.
    """
    rows = flag_rows(findings.get("flags") or [])
    metrics = findings.get("metrics") or {}
    kpis = [
        {"label": label or metric_label(name, parameters), "value": format_value(metrics[name], kind)}
        for name, label, kind in HEADLINE_METRICS
        if name in metrics
    ]
    counts = {tone: sum(r["tone"] == tone for r in rows) for tone in ("red", "amber", "green", "grey")}
    company = findings.get("company")
    company = "Company" if is_missing(company) or not str(company).strip() else str(company)
    as_of = "" if is_missing(findings.get("as_of")) else str(findings.get("as_of"))
    return {
        "company": company,
        "as_of": as_of,
        # the printed page's footer (CSS @page), a CSS string literal safe inside <style>
        "footer_css": css_string(f"{company} · Coverage diligence · as of {as_of}"),
        "data_period": data_period or "",
        "prepared_by": prepared_by or "",
        "scorecard": rows,
        "counts": counts,
        "kpis": kpis,
        "dq": data_quality_line(findings.get("data_quality")),
        "sections": [dict(s) for s in sections],
        "methodology": methodology(findings, parameters),
        "potential_basis": potential_basis_text(findings.get("potential_basis")),
        "model_card": model_card(potential),
        "assumptions": assumption_rows(assumptions, parameters),
        "key_findings": key_findings(findings.get("flags") or []),
        "changes": dict(changes) if changes else None,
    }


def assumption_rows(inputs: Any, parameters: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """The scenario assumptions for the methodology appendix, as text: each
    capacity-plan input with its value, its basis (observed in the company's
    history, set in the parameters, or assumed) and where it comes from, then
    the accounts-per-rep norms (set in the parameters, or the specification's
    defaults). Empty when the run recorded no scenario inputs."""
    if inputs is None or len(inputs) == 0:
        return []
    rows = [
        {
            "item": str(r["input"]),
            "value": str(r["figure"]),
            "basis": str(r["basis"]),
            "source": _source_text(r),
        }
        for r in inputs.to_dict("records")
    ]
    norms = (parameters or {}).get("accounts_per_rep") or DEFAULTS["accounts_per_rep"]
    default = norms == DEFAULTS["accounts_per_rep"]
    rows.append(
        {
            "item": "Accounts per rep (capacity need)",
            "value": ", ".join(f"{k} {fmt_int(v)}" for k, v in norms.items()),
            "basis": "assumed" if default else "set",
            "source": ASSUMED_SOURCES["accounts_per_rep"] if default else "given in the parameters (accounts_per_rep)",
        }
    )
    return rows


def _source_text(row: Mapping[str, Any]) -> str:
    """Where a capacity-plan input comes from; an observed or set value says
    which default it replaced, and where that default comes from."""
    note = "" if is_missing(row["note"]) else str(row["note"])
    if str(row["basis"]) == "assumed" or str(row["setting"]) not in ASSUMED_SOURCES:
        return note
    default = ASSUMED_SOURCES[str(row["setting"])].split(". Set scenarios.")[0].split("; set ")[0]
    return f"{note}. This {row['basis']!s} value replaced the default: {default}"


def model_card(potential: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The potential model's card for the methodology appendix: its rows
    (:func:`~diligence.report.narrative.potential_card`) and its calibration by
    decile, as text; None when the run fitted no model."""
    if not potential or not potential.get("card"):
        return None
    calibration = potential.get("calibration")
    rows = [] if calibration is None else calibration.to_dict("records")
    return {
        "rows": potential_card(potential).to_dict("records"),
        "calibration": [
            {
                "decile": fmt_int(r["decile"]),
                "accounts": fmt_int(r["accounts"]),
                "predicted": format_value(r["predicted"], "money"),
                "actual": format_value(r["actual"], "money"),
                "win_rate": format_value(r["win_rate"], "pct"),
            }
            for r in rows
        ],
    }


def methodology(findings: Mapping[str, Any], parameters: Mapping[str, Any] | None) -> dict[str, Any]:
    """The methodology appendix: each SPEC metric with its definition and this
    report's value, each flag with its rule and threshold, and the parameters
    the run used."""
    metrics = findings.get("metrics") or {}
    return {
        "window_days": (parameters or {}).get("active_window_days", DEFAULTS["active_window_days"]),
        "version": str(findings.get("kit_version") or diligence.__version__),
        "metrics": [
            {
                "name": name,
                "definition": text,
                "value": format_value(metrics.get(name), value_kind(name, metrics.get(name))),
            }
            for name, text in metric_definitions(parameters).items()
        ],
        "flags": [
            {
                "id": f.get("id", ""),
                "name": humanize(str(f.get("name", ""))),
                "rule": BY_ID[f["id"]].rule if f.get("id") in BY_ID else "",
                "threshold": flag_threshold_text(f),
            }
            for f in findings.get("flags") or []
        ],
        "parameters": [
            {"name": name, "value": _param_text(value)}
            for name, value in (parameters or {}).items()
            if name != "thresholds"  # stated flag by flag above
        ],
    }


def _param_text(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


_REQUEST_ATTRS = ("src", "srcset", "poster", "data", "background", "action", "formaction", "xlink:href")
_EXTERNAL_CSS = re.compile(r"@import[^;]*;|url\(\s*['\"]?\s*(?:[a-z][a-z0-9+.-]*:)?//[^)]*\)", re.IGNORECASE)


def _is_local(url: str) -> bool:
    """True for a URL that needs no other host: inline data or a fragment."""
    u = url.strip().lower()
    return u.startswith(("data:", "#")) or u == ""


class _ReportExporter(HTMLExporter):
    """nbconvert's HTML exporter without its own final pass over the page (alt
    text on images, focusable cells): :func:`make_offline` makes it in the one
    pass it already makes, so a large report is parsed once, not twice."""

    def from_notebook_node(self, nb: NotebookNode, resources: dict | None = None, **kw: Any) -> tuple[str, dict]:
        from nbconvert.exporters.templateexporter import TemplateExporter
        from nbconvert.filters.highlight import Highlight2HTML
        from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        highlight_code = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
        resources = self._init_resources(resources)
        filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources)
        self.register_filter("highlight_code", highlight_code)
        self.register_filter("filter_data_type", filter_data_type)
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)


def _nbconvert_pass(soup: BeautifulSoup) -> None:
    """What nbconvert's HTML exporter does to its page last: alt text on every image
    without one, inputs and outputs focusable."""
    for elem in soup.select("img:not([alt])"):
        elem.attrs["alt"] = "No description has been provided for this image"
    for elem in soup.select(".jp-Notebook div.jp-Cell-inputWrapper"):
        elem.attrs["tabindex"] = "0"
    for elem in soup.select(".jp-Notebook div.jp-OutputArea-output"):
        elem.attrs["tabindex"] = "0"


def make_offline(html_text: str, *, nbconvert_pass: bool = False) -> str:
    """Remove from a page everything that would make a browser contact another host.

    Scripts (the report needs none), ``<link>``, frames, objects and ``<base>`` are
    removed; ``src``-like attributes that are not inline ``data:`` URLs are dropped;
    CSS ``@import`` and ``url(//…)`` are neutralised. Plain ``<a href>`` links stay:
    following one is the reader's choice, not a request made by opening the file.
    """
    soup = BeautifulSoup(html_text, features="html.parser")
    if nbconvert_pass:  # the page of :class:`_ReportExporter`
        _nbconvert_pass(soup)
    for tag in soup.find_all(["script", "link", "iframe", "frame", "object", "embed", "base", "applet", "portal"]):
        tag.decompose()
    for tag in soup.find_all("meta", attrs={"http-equiv": True}):
        if str(tag.get("http-equiv", "")).lower() == "refresh":
            tag.decompose()
    for tag in soup.find_all(True):
        for attr in _REQUEST_ATTRS:
            if tag.has_attr(attr) and not _is_local(str(tag[attr])):
                del tag[attr]
        if tag.name != "a" and tag.has_attr("href") and not _is_local(str(tag["href"])):
            del tag["href"]
        if tag.has_attr("style"):
            tag["style"] = _EXTERNAL_CSS.sub("none", str(tag["style"]))
    for style in soup.find_all("style"):
        if style.string and _EXTERNAL_CSS.search(style.string):
            style.string = _EXTERNAL_CSS.sub("none", style.string)
    return str(soup)


def render_html(
    notebooks: list[Path],
    findings: dict,
    out_path: Path,
    *,
    prepared_by: str = "",
    data_period: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    potential: Mapping[str, Any] | None = None,
    changes: Mapping[str, Any] | None = None,
    assumptions: Any = None,
) -> Path:
    """Write the client report: executed notebooks + findings → one self-contained HTML file.

    Parameters
    ----------
    notebooks
        Executed step notebooks, in report order.
    findings
        The SPEC §7 findings (company, as_of, metrics, flags, data_quality); the
        cover and executive-summary scorecard are built from it.
    out_path
        Where to write ``report.html`` (its folder is created if needed).
    prepared_by, data_period
        Shown on the cover when given.
    parameters
        The run's resolved parameters, stated in the methodology appendix.
    potential
        What the run recorded of its potential model, for the appendix's model card.
    changes
        What changed since an earlier run, shown after the executive summary.
    assumptions
        The scenario step's "Capacity plan inputs" table, for the appendix's
        scenario assumptions (where each assumed figure comes from).

    Returns
    -------
    Path
        ``out_path``. The file has no code, no prompts, no script and no reference
        to another host; charts are inline PNGs; client text is escaped.
    """
    merged, sections = merge_notebooks(notebooks)
    context = report_context(
        findings,
        sections,
        prepared_by=prepared_by,
        data_period=data_period,
        parameters=parameters,
        potential=potential,
        changes=changes,
        assumptions=assumptions,
    )
    merged.metadata["title"] = f"{context['company']} — Coverage diligence"
    exporter = _ReportExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_anchor_links=True,
    )
    body, _ = exporter.from_notebook_node(merged, resources={"dk": context, "metadata": {"name": "report"}})
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(make_offline(body, nbconvert_pass=True), encoding="utf-8")
    return out_path
