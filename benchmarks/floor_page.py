"""The least a Streamlit page can do, for benchmarks/perf_page.py's what-if: the page's title,
a question box and, once asked, the results caption; no index, no model, no other imports.
Its start to first answer is Streamlit's own floor on the machine, what no change to the page
can go below (the same server, the same client, the same browser)."""

import streamlit as st

st.title("counsel-search")
st.caption("Semantic search over what therapists have written.")
question = st.text_input("Your question")
if question:
    st.caption("best-matching sentences highlighted")
    st.text(question)
