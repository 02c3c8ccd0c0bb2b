"""Fixed vocabulary of the synthetic catalog: word lists, markets, genres, id alphabet and the catalog's "today".

Constants only, shared by `catalog` (music) and `catalog_social` (users, podcasts, playlists, the listener).
"""

from __future__ import annotations

from datetime import date

# A fixed "today" keeps the catalog pure; real new releases cluster just before it.
CATALOG_AS_OF = date(2026, 11, 20)

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_LENGTH = 22

GENRES: tuple[str, ...] = (
    "pop", "dance pop", "electropop", "indie pop", "art pop", "k-pop", "j-pop", "latin pop", "synthpop",
    "rock", "indie rock", "alternative rock", "classic rock", "garage rock", "post-punk", "punk", "shoegaze",
    "dream pop", "grunge", "hard rock", "metal", "metalcore", "doom metal", "progressive rock", "psychedelic rock",
    "hip hop", "rap", "trap", "drill", "uk drill", "conscious hip hop", "boom bap", "alternative hip hop",
    "r&b", "alternative r&b", "neo soul", "soul", "funk", "disco", "motown", "gospel",
    "edm", "house", "deep house", "tech house", "techno", "trance", "drum and bass", "dubstep", "ambient",
    "lo-fi beats", "downtempo", "trip hop", "electronica", "idm",
    "country", "contemporary country", "americana", "bluegrass", "folk", "indie folk", "singer-songwriter",
    "jazz", "smooth jazz", "bebop", "jazz fusion", "blues", "delta blues",
    "reggae", "dancehall", "afrobeats", "amapiano", "reggaeton", "latin", "salsa", "bachata", "cumbia",
    "bossa nova", "mpb", "flamenco", "chanson", "schlager", "classical", "modern classical", "soundtrack",
)

MARKETS: tuple[str, ...] = (
    "AD", "AE", "AR", "AT", "AU", "BE", "BG", "BO", "BR", "CA", "CH", "CL", "CO", "CR", "CY", "CZ", "DE",
    "DK", "DO", "EC", "EE", "ES", "FI", "FR", "GB", "GR", "GT", "HK", "HN", "HU", "ID", "IE", "IL", "IN",
    "IS", "IT", "JP", "KR", "LT", "LU", "LV", "MX", "MY", "NI", "NL", "NO", "NZ", "PA", "PE", "PH", "PL",
    "PT", "PY", "RO", "SA", "SE", "SG", "SK", "SV", "TH", "TR", "TW", "US", "UY", "VN", "ZA",
)

LABELS: tuple[str, ...] = (
    "Northbound Records", "Lighthouse Music", "Copper Lane Recordings", "Blue Fern Audio", "Satellite Sound",
    "Harbor & Pine", "Midnight Orchard", "Glass Canyon Records", "Paper Kite Music", "Velvet Static",
    "Open Field Records", "Red Dune Entertainment", "Silver Echo Label Group", "Kestrel Recordings",
    "Lowtide Collective", "Ironwood Music", "Polar Signal", "Golden Hour Records", "Cinder Block Audio",
    "Hollow Tree Records", "Neon Parish", "Atlas Grove Music", "Quiet Riot Distribution", "Wild Honey Records",
)

ISRC_COUNTRIES: tuple[str, ...] = ("US", "GB", "DE", "SE", "FR", "NL", "CA", "AU", "JP", "KR", "BR", "QZ", "QM")

FIRST_NAMES: tuple[str, ...] = (
    "Ava", "Leo", "Maya", "Noah", "Iris", "Jonas", "Lena", "Mateo", "Zara", "Elias", "Nina", "Oscar", "Mila",
    "Felix", "Sofia", "Hugo", "Amara", "Kai", "Elena", "Theo", "Yuna", "Rafael", "Freya", "Dante", "Ines",
    "Malik", "Clara", "Sami", "Aurora", "Jude",
)
LAST_NAMES: tuple[str, ...] = (
    "Quinn", "Hart", "Moreau", "Okafor", "Lindqvist", "Castillo", "Reyes", "Novak", "Sato", "Bennett",
    "Ferreira", "Walsh", "Kowalski", "Haddad", "Park", "Rossi", "Nakamura", "Delgado", "Byrne", "Ahmed",
    "Varga", "Silva", "Holm", "Mercer", "Ivanova", "Laurent", "Osei", "Brandt", "Kaur", "Vance",
)
ADJECTIVES: tuple[str, ...] = (
    "Velvet", "Electric", "Silent", "Golden", "Neon", "Hollow", "Crimson", "Midnight", "Paper", "Wild",
    "Lunar", "Broken", "Frozen", "Burning", "Distant", "Gentle", "Restless", "Violet", "Static", "Endless",
    "Hidden", "Lucky", "Northern", "Sunday", "Glass", "Copper", "Faded", "Bright", "Slow", "Secret",
)
NOUNS: tuple[str, ...] = (
    "Harbors", "Echoes", "Foxes", "Satellites", "Rivers", "Lanterns", "Machines", "Tigers", "Orchards",
    "Pilots", "Ghosts", "Waves", "Mountains", "Signals", "Parades", "Shadows", "Mirrors", "Comets", "Wolves",
    "Gardens", "Engines", "Sparrows", "Cities", "Horizons", "Dreams", "Hearts", "Streets", "Strangers",
    "Oceans", "Wires",
)
SINGULAR_NOUNS: tuple[str, ...] = (
    "Heart", "Night", "Summer", "River", "Fire", "Light", "Road", "Dream", "Storm", "Moon", "City", "Ocean",
    "Mirror", "Signal", "Garden", "Window", "Highway", "Shadow", "Echo", "Season", "Kingdom", "Horizon",
    "Paradise", "Machine", "Letter", "Island", "Winter", "Rain", "Morning", "Silence",
)
TRACK_PATTERNS: tuple[str, ...] = (
    "{adj} {noun}", "{noun}", "The {adj} {noun}", "{noun} of {noun2}s", "Into the {noun}", "{adj}",
    "Call Me {adj}", "{noun} Song", "Lost in the {noun}", "{adj} {noun} (Interlude)", "Don't Let the {noun} Go",
    "{noun}, {noun2}", "All the {adj} {noun}s", "{adj} Again", "Every {noun}",
)
ALBUM_PATTERNS: tuple[str, ...] = (
    "{adj} {noun}", "{noun}s", "The {adj} {noun}", "{noun} & {noun2}", "Songs for the {noun}",
    "{adj} {noun}s", "After the {noun}", "{noun} Sessions", "Live at the {noun}", "{adj}",
)

ARTIST_IMAGE_PREFIXES: tuple[tuple[str, int], ...] = (
    ("ab6761610000e5eb", 640), ("ab67616100005174", 320), ("ab6761610000f178", 160),
)
ALBUM_IMAGE_PREFIXES: tuple[tuple[str, int], ...] = (
    ("ab67616d0000b273", 640), ("ab67616d00001e02", 300), ("ab67616d00004851", 64),
)
IMAGE_HOST = "https://i.scdn.co/image/"

# ---- users, podcasts, playlists, categories ----------------------------------------------------------------

USER_IMAGE_PREFIXES: tuple[tuple[str, int], ...] = (("ab6775700000ee85", 300), ("ab67757000003b82", 64))
SHOW_IMAGE_PREFIXES: tuple[tuple[str, int], ...] = (
    ("ab6765630000ba8a", 640), ("ab67656300005f1f", 300), ("ab6765630000f68d", 64),
)
EDITORIAL_IMAGE_PREFIX = "ab67706f00000002"  # Spotify-made covers come with null height and width
MOSAIC_HOST = "https://mosaic.scdn.co/"
CATEGORY_ICON_HOST = "https://t.scdn.co/"
SPOTIFY_USER_ID = "spotify"
NEW_USER_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"

# (id or None for a generated "0JQ5DAqbMKF..." id, name); the first ones keep Spotify's readable ids.
CATEGORIES: tuple[tuple[str | None, str], ...] = (
    ("toplists", "Top Lists"), (None, "Pop"), (None, "Hip-Hop"), (None, "Rock"), (None, "Indie"),
    (None, "Dance/Electronic"), (None, "Mood"), (None, "Chill"), (None, "Workout"), (None, "Focus"),
    (None, "Sleep"), (None, "Party"), (None, "R&B"), (None, "Country"), (None, "Latin"), (None, "Jazz"),
    (None, "Classical"), (None, "Metal"), (None, "Soul"), (None, "Blues"), (None, "Punk"),
    (None, "Folk & Acoustic"), (None, "Romance"), (None, "Gaming"),
)
CATEGORY_ID_PREFIX = "0JQ5DAqbMKF"

EDITORIAL_PLAYLIST_PATTERNS: tuple[str, ...] = (
    "{Genre} Mix", "Fresh {Genre}", "{Adj} {Genre}", "{Genre} Essentials", "All New {Genre}", "{Genre} Rising",
    "Pure {Genre}", "{Genre} Classics",
)
EDITORIAL_DESCRIPTIONS: tuple[str, ...] = (
    "The best of {genre} right now. Cover: {artist}",
    "New {genre} from the artists you love and the ones you'll love next.",
    "Hand-picked {genre} for every mood. Cover: {artist}",
    'Stream the finest {genre}. <a href="spotify:playlist:{more}">More like this</a>.',
)
PERSONAL_PLAYLIST_PATTERNS: tuple[str, ...] = (
    "road trip", "late night {noun}", "{adj} {noun}s", "gym", "Sunday morning", "songs for the {noun}",
    "{genre} faves", "my {adj} mix", "summer {year}", "throwbacks", "focus", "kitchen dancing",
)
PERSONAL_DESCRIPTIONS: tuple[str, ...] = (
    "", "", "", "for the long drive", "no skips", "updated every friday", "{genre} and friends",
)

SHOW_PATTERNS: tuple[str, ...] = (
    "The {Adj} {Noun} Podcast", "{Noun} Talk", "Inside the {Noun}", "{Adj} Hours", "The {Noun} Show",
)
EPISODE_PATTERNS: tuple[str, ...] = (
    "Episode {n}: The {Adj} {Noun}", "#{n} - {Noun} and {Noun2}", "{Adj} {Noun} (with {person})",
    "Ep. {n}: Why {Noun}s Matter", "Live from the {Noun}",
)
