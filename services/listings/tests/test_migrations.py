"""The place-keys migration backfills rows written before it with the same rule new writes use."""

import asyncio
import os
import sys
from pathlib import Path

import asyncpg

from marketplace_rules.places import city_key, listing_district_key, place_key
from service_kit.testing import POSTGRES_URL, run_id

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"
BEFORE_PLACE_KEYS = "3b7c2d9e4f10"
PLACE_KEYS = "7c41e2a9b5d3"


async def alembic(database: str, *command: str) -> None:
    url = f"{POSTGRES_URL.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{database}"
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "alembic", "-c", str(ALEMBIC_INI), *command),
        env=os.environ | {"DATABASE_URL": url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()


async def test_existing_listings_get_the_keys_search_compares() -> None:
    database = f"listings_migration_test_{run_id()}"
    admin = await asyncpg.connect(f"{POSTGRES_URL}/postgres")
    await admin.execute(f'CREATE DATABASE "{database}"')
    try:
        await alembic(database, "upgrade", BEFORE_PLACE_KEYS)
        places = [("г. Королёв", "Центральный  район"), ("МОСКВА", None), ("Нижний   Новгород", "Сормово")]
        connection = await asyncpg.connect(f"{POSTGRES_URL}/{database}")
        try:
            await connection.executemany(
                "INSERT INTO properties (owner_id, status, deal_format, type, location, city, district, price,"
                " currency, price_rub, title, features, equipment, building_features, territory_features,"
                " nearby_places, views, services, documents, images)"
                " VALUES (7, 'active', 'sale', 'apartment', 'somewhere', $1, $2, 1, 'RUB', 1, 'old',"
                " '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}')",
                places,
            )
        finally:
            await connection.close()

        await alembic(database, "upgrade", PLACE_KEYS)
        connection = await asyncpg.connect(f"{POSTGRES_URL}/{database}")
        try:
            rows = await connection.fetch("SELECT city, district, city_key, district_key FROM properties ORDER BY id")
            indexes = {
                row["indexname"]
                for row in await connection.fetch("SELECT indexname FROM pg_indexes WHERE tablename = 'properties'")
            }
        finally:
            await connection.close()
        assert [(row["city_key"], row["district_key"]) for row in rows] == [
            (city_key(city), place_key(district)) for city, district in places
        ]
        assert [row["city_key"] for row in rows] == ["королев", "москва", "нижний новгород"]
        assert {"ix_properties_active_city_key", "ix_properties_active_kind_city_key"} <= indexes
        assert not indexes & {"ix_properties_active_city", "ix_properties_active_kind_city"}

        await alembic(database, "downgrade", BEFORE_PLACE_KEYS)  # and back, without losing the rows
        connection = await asyncpg.connect(f"{POSTGRES_URL}/{database}")
        try:
            assert await connection.fetchval("SELECT count(*) FROM properties") == len(places)
        finally:
            await connection.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()


async def test_existing_listings_get_district_keys_without_markers_and_from_their_address() -> None:
    database = f"listings_migration_test_{run_id()}"
    admin = await asyncpg.connect(f"{POSTGRES_URL}/postgres")
    await admin.execute(f'CREATE DATABASE "{database}"')
    try:
        await alembic(database, "upgrade", PLACE_KEYS)
        rows = [
            ("Москва, ул. Тверская, 1", "Центральный  район"),
            ("Москва, Центральный район, ул. Тверская, 1", None),
            ("г. Москва, ЦАО, ул. Тверская, д. 1", None),
            ("ул. Тверская, 7, Москва", None),
        ]
        connection = await asyncpg.connect(f"{POSTGRES_URL}/{database}")
        try:
            await connection.executemany(
                "INSERT INTO properties (owner_id, status, deal_format, type, location, city, city_key, district,"
                " district_key, price, currency, price_rub, title, features, equipment, building_features,"
                " territory_features, nearby_places, views, services, documents, images)"
                " VALUES (7, 'active', 'sale', 'apartment', $1, 'Москва', 'москва', $2::text, lower($2::text),"
                " 1, 'RUB', 1, 'old', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}')",
                rows,
            )
            await alembic(database, "upgrade", "head")
            keys = [
                row["district_key"] for row in await connection.fetch("SELECT district_key FROM properties ORDER BY id")
            ]
            assert keys == [listing_district_key(district, location) for location, district in rows]
            assert keys == ["центральный", "центральный", "центральный", None]
            await alembic(database, "downgrade", PLACE_KEYS)
            keys = [
                row["district_key"] for row in await connection.fetch("SELECT district_key FROM properties ORDER BY id")
            ]
            assert keys == [place_key(district) for _, district in rows]
        finally:
            await connection.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()
