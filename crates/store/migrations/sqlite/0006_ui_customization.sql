-- Hosted-page branding (SetUICustomization / GetUICustomization): a stylesheet and a logo per
-- pool (client_id 'ALL') or per app client. Column-for-column in step with
-- ../postgres/0006_ui_customization.sql. Cascades from its pool.

CREATE TABLE ui_customizations (
    pool_id     TEXT NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL,
    css         TEXT,
    image       BLOB,
    image_type  TEXT,
    created_ms  BIGINT NOT NULL,
    modified_ms BIGINT NOT NULL,
    PRIMARY KEY (pool_id, client_id)
);
