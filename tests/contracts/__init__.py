"""Contract tests: one suite per protocol, run over every implementation of it.

Each module defines a ``<Protocol>Contract`` class — the behaviour every implementation must
show, written against the protocol only — and a ``Test...`` subclass whose fixture is
parametrised over the implementations this project ships (in the style of haystack's
``testing/document_store.py`` and langgraph's checkpointer conformance suite). A new
implementation joins by adding a parameter there, or elsewhere by subclassing the contract
class with a fixture of its own.

The suites are the cross-implementation floor; tests of one implementation in depth stay in
their own files (tests/test_work_orders.py, tests/test_llm_backends.py, ...). Parameters that
start a server or load the GGUF model carry the ``integration``/``slow`` marks and reuse the
session fixtures of tests/conftest.py.

| module                      | protocol                                   |
|-----------------------------|--------------------------------------------|
| test_embedder.py            | retrievers.embedders.Embedder              |
| test_vector_store.py        | retrievers.vector_store.VectorStore        |
| test_llm_backend.py         | copilot.llm.base.LLMBackend                |
| test_work_order_store.py    | copilot.work_orders.store.WorkOrderStore   |
| test_indicator_provider.py  | copilot.indicators.store.IndicatorProvider |
"""
