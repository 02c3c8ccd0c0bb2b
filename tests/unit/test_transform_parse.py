"""Unit tests of activities.transform.parse: Spotify response bodies in, records out.

Payloads are built by the helpers below in the shapes of the Spotify Web API OpenAPI
description (/work/shared/spotify-web-api/openapi.yaml); the last tests check them against it.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from activities.transform.errors import PayloadShapeError
from activities.transform.parse import (
    PARSERS,
    Record,
    Richness,
    parse_album_tracks,
    parse_albums,
    parse_artists,
    parse_new_releases,
    parse_release_date,
    parse_tracks,
)

API = "https://api.spotify.com/v1"


# -- Spotify-shaped payload builders ------------------------------------------------------------


def simplified_artist(artist_id: str, name: str) -> dict[str, Any]:
    return {
        "external_urls": {"spotify": f"https://open.spotify.com/artist/{artist_id}"},
        "href": f"{API}/artists/{artist_id}",
        "id": artist_id,
        "name": name,
        "type": "artist",
        "uri": f"spotify:artist:{artist_id}",
    }


def simplified_track(
    track_id: str, name: str, artists: list[dict[str, Any]], *, number: int = 1, disc: int = 1
) -> dict[str, Any]:
    return {
        "artists": artists,
        "available_markets": ["US", "GB"],
        "disc_number": disc,
        "duration_ms": 207959,
        "explicit": False,
        "external_urls": {"spotify": f"https://open.spotify.com/track/{track_id}"},
        "href": f"{API}/tracks/{track_id}",
        "id": track_id,
        "is_playable": True,
        "name": name,
        "preview_url": None,
        "track_number": number,
        "type": "track",
        "uri": f"spotify:track:{track_id}",
        "is_local": False,
    }


def simplified_album(
    album_id: str, name: str, *, release_date: str = "2026-11-20", precision: str = "day"
) -> dict[str, Any]:
    return {
        "album_type": "album",
        "total_tracks": 2,
        "available_markets": ["US", "GB"],
        "external_urls": {"spotify": f"https://open.spotify.com/album/{album_id}"},
        "href": f"{API}/albums/{album_id}",
        "id": album_id,
        "images": [{"url": "https://i.scdn.co/image/ab67616d0000b273", "height": 640, "width": 640}],
        "name": name,
        "release_date": release_date,
        "release_date_precision": precision,
        "type": "album",
        "uri": f"spotify:album:{album_id}",
        "artists": [simplified_artist("0TnOYISbd1XYRBk9myaseg", "Pitbull")],
    }


def full_album(album_id: str, name: str, tracks: list[dict[str, Any]], **kwargs: Any) -> dict[str, Any]:
    album = simplified_album(album_id, name, **kwargs)
    album.update(
        {
            "tracks": {
                "href": f"{API}/albums/{album_id}/tracks?offset=0&limit=50",
                "limit": 50,
                "next": None,
                "offset": 0,
                "previous": None,
                "total": len(tracks),
                "items": tracks,
            },
            "copyrights": [{"text": "(P) 2026 Label", "type": "P"}],
            "external_ids": {"upc": "00602445790975"},
            "genres": [],
            "label": "Mr.305/Polo Grounds Music/J Records",
            "popularity": 71,
        }
    )
    return album


def full_track(
    track_id: str, name: str, album: dict[str, Any], artists: list[dict[str, Any]], *, popularity: int = 64
) -> dict[str, Any]:
    track = simplified_track(track_id, name, artists)
    track.update({"album": album, "external_ids": {"isrc": "USRC11700001"}, "popularity": popularity})
    return track


def full_artist(
    artist_id: str, name: str, *, followers: int = 1000, images: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    artist = simplified_artist(artist_id, name)
    artist.update(
        {
            "followers": {"href": None, "total": followers},
            "genres": ["dance pop", "miami hip hop"],
            "images": images
            if images is not None
            else [
                {"url": "https://i.scdn.co/image/small", "height": 160, "width": 160},
                {"url": "https://i.scdn.co/image/large", "height": 640, "width": 640},
            ],
            "popularity": 80,
        }
    )
    return artist


def paging(
    href: str, items: list[dict[str, Any]], *, limit: int = 20, offset: int = 0, total: int | None = None
) -> dict[str, Any]:
    return {
        "href": href,
        "limit": limit,
        "next": None,
        "offset": offset,
        "previous": None,
        "total": total if total is not None else offset + len(items),
        "items": items,
    }


PITBULL = simplified_artist("0TnOYISbd1XYRBk9myaseg", "Pitbull")
NEYO = simplified_artist("21E3waRsmPlU7jZsS13rcj", "Ne-Yo")


def rows(records: list[Record], table: str) -> list[dict[str, Any]]:
    return [record.row for record in records if record.table == table]


# -- albums ----------------------------------------------------------------------------------------


def test_when_albums_body_is_parsed_then_full_album_rows_and_simplified_embedded_tracks_come_out() -> None:
    # Arrange
    body = {
        "albums": [
            full_album(
                "4aawyAB9vmqN3uQ7FjRGTy",
                "Global Warming",
                [
                    simplified_track("6OmhkSOpvYBokMKQxpIGx2", "Global Warming", [PITBULL, NEYO], number=1),
                    simplified_track("2iblMMIgSznA464mNov7A8", "Don't Stop the Party", [PITBULL], number=2),
                ],
            ),
            None,  # GET /albums?ids= returns null for an unknown id
        ]
    }

    # Act
    records = parse_albums(body)

    # Assert
    albums = rows(records, "albums")
    assert albums == [
        {
            "album_id": "4aawyAB9vmqN3uQ7FjRGTy",
            "name": "Global Warming",
            "album_type": "album",
            "release_date": date(2026, 11, 20),
            "release_date_raw": "2026-11-20",
            "release_date_precision": "day",
            "release_year": 2026,
            "total_tracks": 2,
            "label": "Mr.305/Polo Grounds Music/J Records",
            "popularity": 71,
        }
    ]
    assert [r.richness for r in records if r.table == "albums"] == [Richness.FULL]
    tracks = rows(records, "tracks")
    assert [t["track_id"] for t in tracks] == ["6OmhkSOpvYBokMKQxpIGx2", "2iblMMIgSznA464mNov7A8"]
    assert {t["album_id"] for t in tracks} == {"4aawyAB9vmqN3uQ7FjRGTy"}
    assert tracks[0]["_artist_ids"] == ("0TnOYISbd1XYRBk9myaseg", "21E3waRsmPlU7jZsS13rcj")
    assert tracks[0]["popularity"] is None
    assert tracks[0]["isrc"] is None
    assert all(r.richness is Richness.SIMPLIFIED for r in records if r.table == "tracks")


def test_when_albums_body_lacks_the_albums_array_then_payload_shape_error_names_the_path() -> None:
    with pytest.raises(PayloadShapeError, match=r"\$\.albums: expected an array"):
        parse_albums({"tracks": []})


def test_when_an_album_has_no_id_then_payload_shape_error_points_at_it() -> None:
    album = full_album("x", "No id", [])
    del album["id"]

    with pytest.raises(PayloadShapeError, match=r"\$\.albums\[0\]\.id"):
        parse_albums({"albums": [album]})


def test_when_a_popularity_is_not_an_integer_then_payload_shape_error() -> None:
    album = full_album("4aawyAB9vmqN3uQ7FjRGTy", "A", [])
    album["popularity"] = "71"

    with pytest.raises(PayloadShapeError, match=r"popularity: expected an integer, got str"):
        parse_albums({"albums": [album]})


# -- release dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "precision", "expected", "year"),
    [
        ("1981", "year", date(1981, 1, 1), 1981),
        ("1981-12", "month", date(1981, 12, 1), 1981),
        ("1981-12-15", "day", date(1981, 12, 15), 1981),
        ("2024-02-29", "day", date(2024, 2, 29), 2024),
    ],
)
def test_when_release_date_matches_its_precision_then_it_is_the_first_day_it_allows(
    raw: str, precision: str, expected: date, year: int
) -> None:
    parsed = parse_release_date(raw, precision)

    assert parsed.value == expected
    assert parsed.year == year


@pytest.mark.parametrize(
    ("raw", "precision"),
    [
        ("0000", "year"),  # Spotify ships this for some catalogue albums
        ("2021-02-30", "day"),  # impossible day
        ("2021-13", "month"),  # impossible month
        ("1981-12", "day"),  # shape does not match the precision
        ("1981-12-15", "year"),
        ("1981", "decade"),  # unknown precision
        ("1981", None),
        (None, "day"),
        ("81", "year"),
        ("", "year"),
    ],
)
def test_when_release_date_is_bad_then_date_and_year_are_null(raw: str | None, precision: str | None) -> None:
    parsed = parse_release_date(raw, precision)

    assert parsed.value is None
    assert parsed.year is None


def test_when_an_album_has_a_bad_release_date_then_the_row_keeps_the_raw_value() -> None:
    album = full_album("4aawyAB9vmqN3uQ7FjRGTy", "A", [], release_date="0000", precision="year")

    (row,) = rows(parse_albums({"albums": [album]}), "albums")

    assert (row["release_date"], row["release_year"], row["release_date_raw"], row["release_date_precision"]) == (
        None,
        None,
        "0000",
        "year",
    )


# -- new releases ----------------------------------------------------------------------------------


def test_when_new_releases_page_is_parsed_then_simplified_album_rows_have_no_label_or_popularity() -> None:
    body = {
        "albums": paging(
            f"{API}/browse/new-releases?offset=0&limit=20",
            [
                simplified_album("4aawyAB9vmqN3uQ7FjRGTy", "Global Warming", release_date="2012-11", precision="month"),
                simplified_album("1ATL5GLyefJaxhQzSPVrLX", "Evolve", release_date="2017", precision="year"),
            ],
        )
    }

    records = parse_new_releases(body)

    assert [r.richness for r in records] == [Richness.SIMPLIFIED, Richness.SIMPLIFIED]
    first, second = rows(records, "albums")
    assert first["release_date"] == date(2012, 11, 1)
    assert second["release_date"] == date(2017, 1, 1)
    assert second["release_year"] == 2017
    assert first["label"] is None
    assert first["popularity"] is None
    assert first["total_tracks"] == 2


def test_when_new_releases_body_is_not_paged_then_payload_shape_error() -> None:
    with pytest.raises(PayloadShapeError, match=r"\$\.albums: expected an object"):
        parse_new_releases({"albums": []})


# -- tracks ----------------------------------------------------------------------------------------


def test_when_tracks_body_is_parsed_then_full_rows_carry_album_isrc_popularity_and_artists() -> None:
    album = simplified_album("4aawyAB9vmqN3uQ7FjRGTy", "Global Warming")
    body = {"tracks": [full_track("6OmhkSOpvYBokMKQxpIGx2", "Global Warming", album, [PITBULL, NEYO]), None]}

    records = parse_tracks(body)

    assert [r.richness for r in records] == [Richness.FULL]
    assert records[0].row == {
        "track_id": "6OmhkSOpvYBokMKQxpIGx2",
        "name": "Global Warming",
        "album_id": "4aawyAB9vmqN3uQ7FjRGTy",
        "duration_ms": 207959,
        "explicit": False,
        "popularity": 64,
        "isrc": "USRC11700001",
        "track_number": 1,
        "disc_number": 1,
        "is_local": False,
        "primary_artist_id": "0TnOYISbd1XYRBk9myaseg",
        "_artist_ids": ("0TnOYISbd1XYRBk9myaseg", "21E3waRsmPlU7jZsS13rcj"),
    }


def test_when_album_tracks_page_is_parsed_then_album_id_comes_from_the_page_href() -> None:
    body = paging(
        f"{API}/albums/4aawyAB9vmqN3uQ7FjRGTy/tracks?offset=50&limit=50",
        [simplified_track("7ouMYWpwJ422jRcDASZB7P", "Track 51", [PITBULL], number=51)],
        limit=50,
        offset=50,
    )

    records = parse_album_tracks(body, None)

    assert [(r.table, r.richness, r.row["album_id"], r.row["track_number"]) for r in records] == [
        ("tracks", Richness.SIMPLIFIED, "4aawyAB9vmqN3uQ7FjRGTy", 51)
    ]


def test_when_album_tracks_page_href_has_no_album_then_request_url_is_used() -> None:
    body = paging("", [simplified_track("7ouMYWpwJ422jRcDASZB7P", "T", [PITBULL])])

    records = parse_album_tracks(body, "http://127.0.0.1:8080/v1/albums/1ATL5GLyefJaxhQzSPVrLX/tracks?offset=50")

    assert records[0].row["album_id"] == "1ATL5GLyefJaxhQzSPVrLX"


def test_when_album_tracks_page_names_no_album_anywhere_then_payload_shape_error() -> None:
    with pytest.raises(PayloadShapeError, match="albums/\\{id\\}/tracks"):
        parse_album_tracks(paging(f"{API}/browse/new-releases", []), f"{API}/tracks?ids=x")


def test_when_a_track_artist_has_no_id_then_its_slot_is_kept_as_none() -> None:
    local_artist = {"name": "Someone", "type": "artist"}
    track = simplified_track("7ouMYWpwJ422jRcDASZB7P", "T", [local_artist, NEYO])
    body = paging(f"{API}/albums/4aawyAB9vmqN3uQ7FjRGTy/tracks", [track])

    (record,) = parse_album_tracks(body, None)

    assert record.row["_artist_ids"] == (None, "21E3waRsmPlU7jZsS13rcj")
    assert record.row["primary_artist_id"] is None


def test_when_a_duration_does_not_fit_int32_then_payload_shape_error() -> None:
    track = simplified_track("7ouMYWpwJ422jRcDASZB7P", "T", [PITBULL])
    track["duration_ms"] = 2**31

    with pytest.raises(PayloadShapeError, match="does not fit in int32"):
        parse_album_tracks(paging(f"{API}/albums/a/tracks", [track]), None)


# -- artists ---------------------------------------------------------------------------------------


def test_when_artists_body_is_parsed_then_rows_carry_followers_genres_and_widest_image() -> None:
    body = {"artists": [full_artist("0TnOYISbd1XYRBk9myaseg", "Pitbull", followers=10_000_000_000), None]}

    (record,) = parse_artists(body)

    assert record.richness is Richness.FULL
    assert record.row == {
        "artist_id": "0TnOYISbd1XYRBk9myaseg",
        "name": "Pitbull",
        "followers": 10_000_000_000,
        "popularity": 80,
        "genres": ["dance pop", "miami hip hop"],
        "image_url": "https://i.scdn.co/image/large",
    }


def test_when_an_artist_has_no_images_then_image_url_is_null() -> None:
    (record,) = parse_artists({"artists": [full_artist("0TnOYISbd1XYRBk9myaseg", "Pitbull", images=[])]})

    assert record.row["image_url"] is None


def test_when_a_genre_is_not_a_string_then_payload_shape_error() -> None:
    artist = full_artist("0TnOYISbd1XYRBk9myaseg", "Pitbull")
    artist["genres"] = ["pop", 7]

    with pytest.raises(PayloadShapeError, match=r"\$\.artists\[0\]\.genres\[1\]"):
        parse_artists({"artists": [artist]})


def test_when_the_registry_is_read_then_every_first_slice_entity_has_a_parser() -> None:
    assert set(PARSERS) == {"new_releases", "albums", "album_tracks", "tracks", "artists"}


# -- the fixtures are Spotify-shaped ---------------------------------------------------------------

_OPENAPI = Path("/work/shared/spotify-web-api/openapi.yaml")


@lru_cache(maxsize=1)
def _openapi() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load(_OPENAPI.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _response_schema(path: str) -> dict[str, Any]:
    spec = _openapi()
    node = spec["paths"][path]["get"]["responses"]["200"]
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return {**node["content"]["application/json"]["schema"], "components": spec["components"]}


@pytest.mark.skipif(not _OPENAPI.exists(), reason="Spotify OpenAPI description not present")
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/albums", {"albums": [full_album("4aawyAB9vmqN3uQ7FjRGTy", "A", [simplified_track("t1", "T", [PITBULL])])]}),
        ("/browse/new-releases", {"albums": paging(f"{API}/browse/new-releases", [simplified_album("a1", "A")])}),
        ("/albums/{id}/tracks", paging(f"{API}/albums/a1/tracks", [simplified_track("t1", "T", [PITBULL, NEYO])])),
        ("/tracks", {"tracks": [full_track("t1", "T", simplified_album("a1", "A"), [PITBULL])]}),
        ("/artists", {"artists": [full_artist("0TnOYISbd1XYRBk9myaseg", "Pitbull")]}),
    ],
)
def test_when_fixture_payloads_are_checked_against_the_openapi_description_then_they_match(
    path: str, body: Any
) -> None:
    validator_module = pytest.importorskip("openapi_schema_validator")
    validator = validator_module.OAS30Validator(_response_schema(path))

    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]

    assert errors == []
