-- Things we sell. Prices live in prices.sql so they can change over time.

CREATE TABLE catalog.products (
    id              uuid                    PRIMARY KEY DEFAULT gen_random_uuid(),
    category_id     integer                 REFERENCES catalog.categories (id) ON DELETE SET NULL,
    sku             citext                  NOT NULL,
    name            varchar(200)            NOT NULL,
    description     text,
    status          catalog.product_status  NOT NULL DEFAULT 'draft',
    tags            text[]                  NOT NULL DEFAULT '{}'::text[],
    attributes      jsonb                   NOT NULL DEFAULT '{}'::jsonb,
    weight_grams    integer,
    created_at      timestamptz             NOT NULL DEFAULT now(),
    updated_at      timestamptz             NOT NULL DEFAULT now(),
    deleted_at      timestamptz,

    CONSTRAINT products_sku_key UNIQUE (sku),
    CONSTRAINT products_weight_positive
        CHECK (weight_grams IS NULL OR weight_grams > 0),
    CONSTRAINT products_attributes_is_object
        CHECK (jsonb_typeof(attributes) = 'object')
);

COMMENT ON TABLE catalog.products IS 'Sellable products. Never hard-deleted once ordered.';
COMMENT ON COLUMN catalog.products.sku IS 'Stock keeping unit, case-insensitive (ab-100 = AB-100).';
COMMENT ON COLUMN catalog.products.attributes IS 'Free-form specifications, e.g. {"color": "black", "ports": 24}.';

-- Storefront listing: live products of a category, with the name for display.
CREATE INDEX products_category_listing_idx
    ON catalog.products (category_id, status)
    INCLUDE (name)
    WHERE deleted_at IS NULL;

-- Attribute filters: WHERE attributes @> '{"color": "black"}'.
CREATE INDEX products_attributes_idx
    ON catalog.products USING gin (attributes jsonb_path_ops);
COMMENT ON INDEX catalog.products_attributes_idx IS 'Supports @> containment filters only (jsonb_path_ops).';

CREATE INDEX products_tags_idx
    ON catalog.products USING gin (tags);
