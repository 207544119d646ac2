"""The "Add documents" panel: upload, preview the passages, add them with a progress bar."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from index import add_sources
from index.uploads import MAX_UPLOAD_MB, store_upload
from ingest import SUPPORTED_EXTENSIONS, CounselSearchError, read_sources
from search import Searcher


def preview_uploads(files: list) -> list[dict[str, object]]:
    """Read each uploaded file (in a scratch folder, under its safe name) without embedding:
    the passages it will make, or the one-line reason it can't be read."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="counsel-upload-") as tmp:
        for file in files:
            row: dict[str, object] = {"file": file.name, "passages": 0, "status": "ok"}
            try:
                path = store_upload(Path(tmp), file.name, file.getvalue())
                result = read_sources([path])
                row["passages"] = len(result.passages)
                if result.errors:
                    row["status"] = result.errors[0].one_line().replace(str(path), file.name)
                elif not result.passages:
                    row["status"] = "no passages found"
            except CounselSearchError as exc:
                row["status"] = exc.one_line()
            rows.append(row)
    return rows


def add_documents_panel(searcher: Searcher, index_dir: Path) -> None:
    """Upload files, preview their passages, add them to the index with a progress bar."""
    files = st.file_uploader(
        f"Files ({', '.join(sorted(SUPPORTED_EXTENSIONS))}; up to {MAX_UPLOAD_MB} MB each)",
        type=[e.lstrip(".") for e in SUPPORTED_EXTENSIONS],
        accept_multiple_files=True,
        # A new key after each add empties the uploader, so the same files are not added twice.
        key=f"uploads-{st.session_state.get('upload_round', 0)}",
    )
    if not files:
        return
    rows = preview_uploads(files)
    st.dataframe(rows, hide_index=True, width="stretch")
    good = [f for f, r in zip(files, rows, strict=True) if r["status"] == "ok"]
    total = sum(int(r["passages"]) for r in rows if r["status"] == "ok")
    if not good:
        st.warning("None of these files can be added.")
        return
    label = f"Add {total} passage{'s' * (total != 1)} from {len(good)} file{'s' * (len(good) != 1)}"
    if st.button(label, key="add-docs"):
        bar = st.progress(0.0, text="Reading…")

        def progress(stage: str, done: int, all_: int) -> None:
            share = done / all_ if all_ else 1.0
            label = "Reading files" if stage == "read" else "Embedding new passages"
            bar.progress(min(1.0, share), text=f"{label}: {done}/{all_}")

        try:
            paths = [store_upload(index_dir, f.name, f.getvalue()) for f in good]
            report = add_sources(paths, index_dir, searcher.embedder, progress=progress)
        except CounselSearchError as exc:
            st.error(exc.one_line())
            return
        plan = report.plan
        st.session_state["upload_round"] = st.session_state.get("upload_round", 0) + 1
        st.session_state["added"] = (
            f"Added {len(plan.documents_added)} and updated {len(plan.documents_changed)} "
            f"document(s): {plan.passages_added + plan.passages_changed} passages, "
            f"{report.embedded} texts embedded. The index now holds {report.passages} passages."
            if report.published
            else f"Nothing changed: these files are already in the index as they are "
            f"({report.passages} passages)."
        )
        st.rerun()
