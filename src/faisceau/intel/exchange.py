"""Exchange with other tools: FollowTheMoney (Aleph), GEXF and GraphML (Gephi), i2 CSV.

Entities travel as FollowTheMoney (FtM): ``entities_from_statements`` groups the case files'
statements into one ``StatementEntity`` per resolved entity (so a merged person keeps where
each of its values came from), ``write_ftm`` writes them as the JSON lines Aleph and the
``ftm`` tools read, ``write_ftm_statements`` writes the statements themselves (JSON lines or
CSV, followthemoney's statement format) so that provenance travels too, and ``read_ftm``
checks a JSON lines file line by line against the FtM model for the importer.

The combined graph (two polars DataFrames, ``nodes`` and ``edges``, see ``NODE_COLUMNS`` and
``EDGE_COLUMNS``) goes to Gephi as GEXF 1.2draft (``write_gexf``) or GraphML
(``write_graphml``), and to i2 Analyst's Notebook as two CSV files (``write_i2``). The XML
writers stream: they build each chunk of rows' markup with polars expressions and write it
at once, so memory stays at the input frames plus one chunk; null values are left out
(Gephi dislikes empty typed values) and dates are ISO strings.

Writers take a path (``.gz`` is compressed) or a binary stream, and return what they wrote.
Messages about the data are in French: they reach analysts and operators.
"""

from __future__ import annotations

import csv
import difflib
import gzip
import io
import itertools
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal, NamedTuple, cast

import polars as pl
from followthemoney import Dataset, EntityProxy, Property, StatementEntity, model, registry
from followthemoney.exc import InvalidData
from followthemoney.statement import Statement
from followthemoney.statement.serialize import (
    CSV_COLUMNS,
    StatementWriter,
)

from faisceau.export import jsonout, safecsv

__all__ = [
    "EDGE_COLUMNS",
    "I2_ENTITY_COLUMNS",
    "I2_LINK_COLUMNS",
    "NODE_COLUMNS",
    "GraphCounts",
    "entities_from_statements",
    "read_ftm",
    "write_ftm",
    "write_ftm_statements",
    "write_gexf",
    "write_graphml",
    "write_i2",
]

Output = str | os.PathLike[str] | BinaryIO
Input = str | os.PathLike[str] | IO[bytes] | IO[str]

# The graph's columns and their XML types. Only ``id`` (nodes) and ``source``/``target``
# (edges) are required; a missing optional column counts as all null.
NODE_COLUMNS: dict[str, str] = {
    "kind": "string", "label": "string", "category": "string", "role": "string",
    "case_id": "string", "first": "string", "last": "string",
}
EDGE_COLUMNS: dict[str, str] = {
    "kind": "string", "weight": "double", "count": "long", "first": "string",
    "last": "string", "evidence": "string",
}
CHUNK_ROWS = 50_000


class GraphCounts(NamedTuple):
    nodes: int
    edges: int


# -- FollowTheMoney ---------------------------------------------------------------------------


def entities_from_statements(
    statements: Iterable[Statement], dataset: Dataset | str = "faisceau"
) -> Iterator[StatementEntity]:
    """One ``StatementEntity`` per canonical_id, its statements keeping their provenance.

    Statements must arrive grouped by canonical_id (sorted, as the store gives them); a
    canonical_id that comes back after another one raises ``ValueError`` rather than yield
    the same entity twice. Schemata of one entity are reconciled by followthemoney (Person
    and LegalEntity give Person; Person and Company raise ``InvalidData``).
    """
    if isinstance(dataset, str):
        dataset = Dataset.make({"name": dataset, "title": dataset})
    done: set[str] = set()
    for canonical_id, group in itertools.groupby(statements, key=lambda s: s.canonical_id):
        if canonical_id in done:
            raise ValueError(
                f"déclarations non triées : l'entité {canonical_id!r} revient après une autre")
        done.add(canonical_id)
        yield StatementEntity.from_statements(dataset, group)


def _ftm_dict(entity: EntityProxy, context: bool) -> dict[str, Any]:
    if not entity.id:
        raise ValueError(f"entité sans identifiant (schéma {entity.schema.name})")
    data: dict[str, Any] = {}
    if context:
        data = {k: v for k, v in entity.to_dict().items() if v not in (None, [], {})}
        for key in ("referents", "datasets", "origin"):
            if isinstance(data.get(key), list):
                data[key] = sorted(data[key])
    data["id"] = entity.id
    data["schema"] = entity.schema.name
    data["properties"] = {p: sorted(v) for p, v in sorted(entity.properties.items())}
    return data


def write_ftm(entities: Iterable[EntityProxy], out: Output, *, context: bool = False) -> int:
    """FtM JSON lines, ``{"id", "schema", "properties"}`` per entity; returns the count.

    Properties and values are sorted, so the same entities give the same file. With
    ``context``, a ``StatementEntity`` also carries its ``caption``, ``datasets``,
    ``referents`` (the merged source entities), ``origin``, ``first_seen`` and ``last_seen``
    (followthemoney keeps such extra keys when reading; leave them off for Aleph, whose
    bulk loader is documented for the minimal form).
    """
    count = 0
    with _open_out(out) as fh:
        for entity in entities:
            fh.write(jsonout.line(_ftm_dict(entity, context)))
            count += 1
    return count


class _SafeCSVStatementWriter(StatementWriter):
    """followthemoney's statement CSV (its columns, its ``unix`` dialect), written through
    ``safecsv``: a value a spreadsheet would run is quoted (``safecsv.restore`` undoes it)."""

    def __init__(self, fh: IO[str]) -> None:
        self.fh = fh
        self.writer = safecsv.writer(fh, dialect=csv.unix_dialect)
        self.writer.writerow(CSV_COLUMNS)

    def write(self, stmt: Statement) -> None:
        row = stmt.to_csv_row()
        self.writer.writerow([row[c] for c in CSV_COLUMNS])

    def close(self) -> None:
        self.fh.flush()


class _SafeJSONStatementWriter(StatementWriter):
    """followthemoney's statement JSON lines, written through ``jsonout`` (one line each)."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh

    def write(self, stmt: Statement) -> None:
        self.fh.write(jsonout.line(stmt.to_dict()))

    def close(self) -> None:
        self.fh.flush()


def write_ftm_statements(
    statements: Iterable[Statement], out: Output, *, format: Literal["json", "csv"] = "json"
) -> int:
    """The statements in followthemoney's statement format (JSON lines or CSV).

    Each row keeps canonical_id, entity_id, schema, prop, value, dataset, origin, lang,
    original_value, first_seen and last_seen: ``ftm aggregate-statements`` and nomenklatura
    rebuild the entities from it, with each value's source. Returns the count.
    """
    count = 0
    with _open_out(out) as fh:
        writer: StatementWriter
        if format == "csv":
            # followthemoney's own wrapper would close the caller's stream when collected.
            text = io.TextIOWrapper(fh, encoding="utf-8", newline="")
            writer = _SafeCSVStatementWriter(text)
        elif format == "json":
            writer = _SafeJSONStatementWriter(fh)
        else:
            raise ValueError(f"format de déclarations inconnu {format!r} (json ou csv)")
        for stmt in statements:
            writer.write(stmt)
            count += 1
        writer.close()
        if format == "csv":
            text.detach()
    return count


def read_ftm(source: Input) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """Check FtM JSON lines against the model: ``(line number, entity or error message)``.

    A good line gives the entity as a dictionary with its values cleaned by followthemoney
    (countries as codes, dates and phones normalised) and its extra keys kept. A bad line
    gives one message, in French, naming the line and every problem found on it (invalid
    JSON or encoding, missing id or schema, unknown or abstract schema, unknown or reverse
    property, values that are not strings, values FtM cannot read). Blank lines are
    skipped. A ``.gz`` path is read compressed.
    """
    with _open_in(source) as fh:
        for line_no, raw in enumerate(fh, 1):
            if isinstance(raw, bytes):
                try:
                    text = raw.decode("utf-8-sig" if line_no == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    yield line_no, (f"ligne {line_no} : encodage invalide (UTF-8 attendu) : "
                                    f"{exc.reason}")
                    continue
            else:
                text = raw.lstrip("\ufeff") if line_no == 1 else raw
            if not text.strip():
                continue
            yield line_no, check_ftm_line(line_no, text)


def check_ftm_line(line_no: int, text: str) -> dict[str, Any] | str:
    where = f"ligne {line_no} : "
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"{where}JSON invalide ({exc.msg}, colonne {exc.colno})"
    except (ValueError, RecursionError) as exc:  # an integer of 5,000 digits, deep nesting
        return f"{where}JSON illisible ({type(exc).__name__} : {exc})"
    if not isinstance(data, dict):
        return f"{where}un objet JSON est attendu"
    errors: list[str] = []
    entity_id = data.get("id")
    if entity_id is None or entity_id == "":
        errors.append("identifiant 'id' manquant")
    elif not isinstance(entity_id, str):
        errors.append(f"identifiant invalide {entity_id!r} (chaîne attendue)")
    name = data.get("schema")
    schema = model.get(name) if isinstance(name, str) and name else None
    if name is None or name == "":
        errors.append("schéma manquant")
    elif schema is None:
        hint = difflib.get_close_matches(str(name), list(model.schemata), n=1)
        errors.append(f"schéma inconnu '{name}'"
                      + (f" (vouliez-vous dire '{hint[0]}' ?)" if hint else ""))
    elif schema.abstract:
        errors.append(f"schéma abstrait '{name}' : choisir un schéma concret")
    properties = data.get("properties", {})
    if not isinstance(properties, dict):
        errors.append("'properties' doit être un objet")
        properties = {}
    cleaned: dict[str, list[str]] = {}
    if schema is not None and not schema.abstract:
        proxy = EntityProxy(schema, {"id": entity_id if isinstance(entity_id, str) else None})
        # Countries first: national phone numbers are read in the entity's countries.
        ordered = sorted(properties.items(), key=lambda kv: not _is_country(schema.get(kv[0])))
        for key, values in ordered:
            prop = schema.get(key)
            if prop is None:
                hint = difflib.get_close_matches(key, list(schema.properties), n=1)
                errors.append(f"propriété inconnue '{key}' pour le schéma '{schema.name}'"
                              + (f" (vouliez-vous dire '{hint[0]}' ?)" if hint else ""))
                continue
            if prop.stub:
                errors.append(f"propriété inverse '{key}' : la renseigner sur l'autre entité")
                continue
            items = [values] if isinstance(values, str) else values
            if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
                errors.append(f"valeurs de '{key}' : une chaîne ou une liste de chaînes attendue")
                continue
            good: list[str] = []
            for value in items:
                if not value.strip():
                    continue
                if prop.type == registry.entity and value == entity_id:
                    errors.append(f"'{key}' : l'entité ne peut pas se désigner elle-même")
                    continue
                try:
                    clean = prop.type.clean_text(value, proxy=proxy)
                    if clean is None and prop.type == registry.phone:
                        clean = _national_phone(value, proxy)
                except InvalidData as exc:
                    errors.append(f"valeur refusée pour '{key}' : '{value}' ({exc})")
                    continue
                if clean is None:
                    errors.append(f"valeur invalide pour '{key}' ({prop.type.name}) : '{value}'")
                elif clean not in good:
                    good.append(clean)
                    proxy.unsafe_add(prop, clean, cleaned=True)
            if good:
                cleaned[key] = good
    if errors:
        return where + " ; ".join(errors)
    entity = dict(data)
    entity["properties"] = cleaned
    return model.get_proxy(entity, cleaned=True).to_dict()


def _national_phone(value: str, proxy: EntityProxy) -> str | None:
    """A number without its international prefix, read in the entity's countries."""
    for country in sorted(proxy.get_type_values(registry.country)):
        try:
            clean = registry.phone.clean_text(value, format=country)
        except InvalidData:
            continue
        if clean is not None:
            return clean
    return None


def _is_country(prop: Property | None) -> bool:
    return prop is not None and prop.type == registry.country


# -- Graph: checks and preparation ------------------------------------------------------------


def _check_graph(nodes: pl.DataFrame, edges: pl.DataFrame) -> None:
    checks = ((nodes, "nodes", ("id",)), (edges, "edges", ("source", "target")))
    for frame, name, required in checks:
        missing = [c for c in required if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} : colonne(s) manquante(s) {missing}")
        for column in required:
            if frame[column].null_count():
                raise ValueError(f"{name} : valeurs nulles dans '{column}'")
    if nodes["id"].n_unique() != nodes.height:
        dup = nodes.filter(pl.col("id").is_duplicated())["id"].unique().head(5).to_list()
        raise ValueError(f"nodes : identifiants en double, par exemple {dup}")
    ids = nodes.select(pl.col("id").cast(pl.Utf8))
    for end in ("source", "target"):
        orphans = (edges.select(pl.col(end).cast(pl.Utf8).alias("id")).unique()
                   .join(ids, on="id", how="anti"))
        if orphans.height:
            raise ValueError(f"edges : {orphans.height} '{end}' absent(s) des nœuds, "
                             f"par exemple {orphans['id'].head(5).to_list()}")


def _as_text(frame: pl.DataFrame, column: str, xml_type: str) -> pl.Expr:
    """The column as strings ready to print: ISO dates, plain numbers, null if absent."""
    if column not in frame.columns:
        return pl.lit(None, dtype=pl.Utf8).alias(column)
    col = pl.col(column)
    dtype = frame.schema[column]
    text: pl.Expr
    if dtype == pl.Date:
        text = col.dt.strftime("%Y-%m-%d")
    elif isinstance(dtype, pl.Datetime):
        text = col.dt.date().dt.strftime("%Y-%m-%d")
    elif xml_type == "double" and dtype.is_numeric():
        as_float = col.cast(pl.Float64)
        text = pl.when(as_float.is_finite()).then(as_float.cast(pl.Utf8))
    elif xml_type == "long" and dtype.is_numeric():
        text = col.cast(pl.Int64).cast(pl.Utf8)
    else:
        text = col.cast(pl.Utf8)
    return text.alias(column)


def _text_frame(
    frame: pl.DataFrame, keys: tuple[str, ...], columns: dict[str, str]
) -> pl.DataFrame:
    return frame.select([pl.col(k).cast(pl.Utf8) for k in keys]
                        + [_as_text(frame, c, t) for c, t in columns.items()])


# Characters XML 1.0 forbids, dropped; tab and line breaks are kept as character references.
_XML_INVALID = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x{FFFE}\x{FFFF}]"
_XML_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"),
                ("\t", "&#9;"), ("\n", "&#10;"), ("\r", "&#13;"))


def _esc(expr: pl.Expr) -> pl.Expr:
    out = expr.str.replace_all(_XML_INVALID, "")
    for char, ref in _XML_ESCAPES:
        out = out.str.replace_all(char, ref, literal=True)
    return out


def _opt(before: str, column: str, after: str) -> pl.Expr:
    """``before + escaped value + after``, or an empty string when the value is null."""
    col = pl.col(column)
    return (pl.when(col.is_not_null())
            .then(pl.concat_str([pl.lit(before), _esc(col), pl.lit(after)]))
            .otherwise(pl.lit("")))


def _write_chunks(fh: BinaryIO, frame: pl.DataFrame, line: pl.Expr) -> None:
    for offset in range(0, frame.height, CHUNK_ROWS):
        chunk = frame.slice(offset, CHUNK_ROWS).with_row_index("_row", offset=offset)
        text = chunk.select(line.str.join("\n")).item()
        fh.write(text.encode("utf-8") + b"\n")


# -- GEXF ------------------------------------------------------------------------------------

_GEXF_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<gexf xmlns="http://www.gexf.net/1.2draft" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" \
xsi:schemaLocation="http://www.gexf.net/1.2draft http://www.gexf.net/1.2draft/gexf.xsd" \
version="1.2">
<meta><creator>faisceau</creator><description>{description}</description></meta>
<graph defaultedgetype="directed" {mode}>
"""


def write_gexf(
    nodes: pl.DataFrame, edges: pl.DataFrame, out: Output, *, dynamic: bool = True,
    description: str = "faisceau : graphe d'analyse (données synthétiques)",
) -> GraphCounts:
    """GEXF 1.2draft for Gephi; returns the counts written.

    Nodes carry their ``label`` as the GEXF label and kind, category, role, case_id, first
    and last as attributes; edges carry kind as label and attribute, ``weight`` as the GEXF
    weight, and count, first, last, evidence as attributes. With ``dynamic`` (and some
    date in the graph) ``first``/``last`` also become GEXF ``start``/``end``, so Gephi's
    timeline can play the graph. Edges are directed (source → target).
    """
    _check_graph(nodes, edges)
    node_attrs = {c: t for c, t in NODE_COLUMNS.items() if c != "label"}
    edge_attrs = {c: t for c, t in EDGE_COLUMNS.items() if c != "weight"}
    nt = _text_frame(nodes, ("id",), NODE_COLUMNS)
    et = _text_frame(edges, ("source", "target"), EDGE_COLUMNS)
    dated = dynamic and any(
        frame[c].null_count() < frame.height for frame in (nt, et) for c in ("first", "last"))
    mode = 'mode="dynamic" timeformat="date"' if dated else 'mode="static"'

    def attvalues(prefix: str, attrs: dict[str, str]) -> pl.Expr:
        values = pl.concat_str([_opt(f'<attvalue for="{prefix}_{c}" value="', c, '"/>')
                                for c in attrs])
        return (pl.when(values.str.len_bytes() > 0)
                .then(pl.concat_str([pl.lit("<attvalues>"), values, pl.lit("</attvalues>")]))
                .otherwise(pl.lit("")))

    def spell() -> list[pl.Expr]:
        if not dated:
            return []
        return [_opt(' start="', "first", '"'), _opt(' end="', "last", '"')]

    node_line = pl.concat_str([
        pl.lit('<node id="'), _esc(pl.col("id")), pl.lit('"'), _opt(' label="', "label", '"'),
        *spell(), pl.lit(">"), attvalues("n", node_attrs), pl.lit("</node>"),
    ])
    edge_line = pl.concat_str([
        pl.lit('<edge id="e'), pl.col("_row").cast(pl.Utf8), pl.lit('" source="'),
        _esc(pl.col("source")), pl.lit('" target="'), _esc(pl.col("target")), pl.lit('"'),
        _opt(' label="', "kind", '"'), _opt(' weight="', "weight", '"'), *spell(),
        pl.lit(">"), attvalues("e", edge_attrs), pl.lit("</edge>"),
    ])
    with _open_out(out) as fh:
        fh.write(_GEXF_HEAD.format(description=_xml_text(description), mode=mode).encode())
        for klass, prefix, attrs in (("node", "n", node_attrs), ("edge", "e", edge_attrs)):
            fh.write(f'<attributes class="{klass}" mode="static">\n'.encode())
            for name, xml_type in attrs.items():
                fh.write(f'<attribute id="{prefix}_{name}" title="{name}" type="{xml_type}"/>\n'
                         .encode())
            fh.write(b"</attributes>\n")
        fh.write(b"<nodes>\n")
        _write_chunks(fh, nt, node_line)
        fh.write(b"</nodes>\n<edges>\n")
        _write_chunks(fh, et, edge_line)
        fh.write(b"</edges>\n</graph>\n</gexf>\n")
    return GraphCounts(nt.height, et.height)


def _xml_text(text: str) -> str:
    return pl.select(_esc(pl.lit(text))).item()


# -- GraphML ---------------------------------------------------------------------------------

_GRAPHML_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" \
xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns \
http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">
"""


def write_graphml(nodes: pl.DataFrame, edges: pl.DataFrame, out: Output) -> GraphCounts:
    """GraphML (Gephi, igraph, networkx, yEd, Cytoscape); returns the counts written.

    Every column of ``NODE_COLUMNS``/``EDGE_COLUMNS`` is a typed key (weight ``double``,
    count ``long``, the rest ``string``; dates as ISO strings); Gephi takes ``label`` as the
    node label and ``weight`` as the edge weight. The graph is directed; parallel edges
    (two kinds of link between the same pair) are kept.
    """
    _check_graph(nodes, edges)
    nt = _text_frame(nodes, ("id",), NODE_COLUMNS)
    et = _text_frame(edges, ("source", "target"), EDGE_COLUMNS)

    def data(prefix: str, attrs: dict[str, str]) -> list[pl.Expr]:
        return [_opt(f'<data key="{prefix}_{c}">', c, "</data>") for c in attrs]

    node_line = pl.concat_str([pl.lit('<node id="'), _esc(pl.col("id")), pl.lit('">'),
                               *data("n", NODE_COLUMNS), pl.lit("</node>")])
    edge_line = pl.concat_str([
        pl.lit('<edge source="'), _esc(pl.col("source")), pl.lit('" target="'),
        _esc(pl.col("target")), pl.lit('">'), *data("e", EDGE_COLUMNS), pl.lit("</edge>"),
    ])
    with _open_out(out) as fh:
        fh.write(_GRAPHML_HEAD.encode())
        for klass, prefix, attrs in (("node", "n", NODE_COLUMNS), ("edge", "e", EDGE_COLUMNS)):
            for name, xml_type in attrs.items():
                fh.write(f'<key id="{prefix}_{name}" for="{klass}" attr.name="{name}" '
                         f'attr.type="{xml_type}"/>\n'.encode())
        fh.write(b'<graph id="faisceau" edgedefault="directed">\n')
        _write_chunks(fh, nt, node_line)
        _write_chunks(fh, et, edge_line)
        fh.write(b"</graph>\n</graphml>\n")
    return GraphCounts(nt.height, et.height)


# -- i2 Analyst's Notebook -------------------------------------------------------------------

# What analysts see in i2: entity and link types, categories. Unknown codes pass through.
I2_KINDS = {
    "person": "Personne", "phone": "Téléphone", "email": "Courriel", "handle": "Pseudonyme",
    "image": "Image", "account": "Compte", "company": "Société", "vehicle": "Véhicule",
    "address": "Adresse", "asset": "Bien", "case": "Affaire", "network": "Réseau d'annonces",
    "event": "Événement",
}
I2_LINKS = {
    "party": "Partie à l'affaire", "uses": "Utilise", "owns": "Possède", "pays": "Paie",
    "directs": "Dirige", "family": "Famille", "booked": "Réservation",
    "advertises": "Annonce", "mentions": "Mentionne", "lead": "Piste",
    "same_as": "Même personne",
}
I2_CATEGORIES = {
    "suspect": "Suspect", "victim": "Victime", "witness": "Témoin", "relation": "Proche",
    "runaway": "Fugue", "fined_client": "Client verbalisé",
}
I2_ENTITY_COLUMNS = ["identite", "type", "libelle", "categorie", "role", "affaire",
                     "date_debut", "date_fin"]
I2_LINK_COLUMNS = (
    [f"{c}_1" for c in I2_ENTITY_COLUMNS[:6]]
    + ["type_lien", "date_lien", "date_fin_lien", "poids", "nombre", "preuve"]
    + [f"{c}_2" for c in I2_ENTITY_COLUMNS[:6]]
)


def write_i2(
    nodes: pl.DataFrame, edges: pl.DataFrame, out_dir: str | os.PathLike[str], *,
    separator: str = ";", decimal_comma: bool = True,
) -> GraphCounts:
    """``i2_entities.csv`` (every node) and ``i2_links.csv`` (one row per edge, both ends).

    UTF-8 with BOM, ``;`` between fields and a decimal comma (what French Windows installs
    expect; both configurable), CRLF line ends, ISO dates (``yyyy-MM-dd`` in the import
    specification), line breaks inside values replaced by spaces (i2 reads one item per
    line). Types and categories are in French (``I2_KINDS``, ``I2_LINKS``,
    ``I2_CATEGORIES``); the identity is the node id, the label falls back to it. Returns
    the entities and links written.
    """
    _check_graph(nodes, edges)
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    nt = _text_frame(nodes, ("id",), NODE_COLUMNS)
    et = _text_frame(edges, ("source", "target"), EDGE_COLUMNS)
    weight = (edges["weight"].cast(pl.Float64) if "weight" in edges.columns
              else pl.Series(values=[None] * edges.height, dtype=pl.Float64))
    et = et.with_columns(weight.alias("_weight"))

    def one_line(expr: pl.Expr) -> pl.Expr:
        return expr.str.replace_all(r"[\r\n]+", " ")

    entities = nt.select(
        pl.col("id").alias("identite"),
        pl.col("kind").replace(I2_KINDS).alias("type"),
        one_line(pl.coalesce("label", "id")).alias("libelle"),
        pl.col("category").replace(I2_CATEGORIES).alias("categorie"),
        one_line(pl.col("role")).alias("role"),
        pl.col("case_id").alias("affaire"),
        pl.col("first").alias("date_debut"),
        pl.col("last").alias("date_fin"),
    )
    ends = entities.select(I2_ENTITY_COLUMNS[:6])
    links = (
        et.with_row_index("_row")
        .select(
            "_row", "source", "target",
            pl.col("kind").replace(I2_LINKS).alias("type_lien"),
            pl.col("first").alias("date_lien"),
            pl.col("last").alias("date_fin_lien"),
            pl.when(pl.col("_weight").is_finite()).then(pl.col("_weight")).alias("poids"),
            pl.col("count").cast(pl.Int64, strict=False).alias("nombre"),
            one_line(pl.col("evidence")).alias("preuve"),
        )
        .join(ends.rename({c: f"{c}_1" for c in ends.columns}),
              left_on="source", right_on="identite_1", how="left", coalesce=False)
        .join(ends.rename({c: f"{c}_2" for c in ends.columns}),
              left_on="target", right_on="identite_2", how="left", coalesce=False)
        .sort("_row")
        .select(I2_LINK_COLUMNS)
    )
    options: dict[str, Any] = dict(include_bom=True, separator=separator,
                                   line_terminator="\r\n", decimal_comma=decimal_comma)
    safecsv.write_frame(entities, directory / "i2_entities.csv", **options)
    safecsv.write_frame(links, directory / "i2_links.csv", **options)
    return GraphCounts(entities.height, links.height)


# -- Files -----------------------------------------------------------------------------------


@contextmanager
def _open_out(out: Output) -> Iterator[BinaryIO]:
    if isinstance(out, str | os.PathLike):
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "wb") as fh:
            yield cast(BinaryIO, fh)
    else:
        yield out
        out.flush()


@contextmanager
def _open_in(source: Input) -> Iterator[Iterable[bytes | str]]:
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as fh:
            yield cast(Iterable[bytes], fh)
    else:
        yield source


