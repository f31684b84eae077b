-- Hosted-page branding (SetUICustomization / GetUICustomization): a stylesheet and a logo per
-- pool (client_id 'ALL') or per app client. Column-for-column in step with
-- ../sqlite/0006_ui_customization.sql. Cascades from its pool.

CREATE TABLE ui_customizations (
    pool_id     TEXT COLLATE "C" NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    client_id   TEXT COLLATE "C" NOT NULL,
    css         TEXT,
    image       BYTEA,
    image_type  TEXT,
    created_ms  BIGINT NOT NULL,
    modified_ms BIGINT NOT NULL,
    PRIMARY KEY (pool_id, client_id)
);
