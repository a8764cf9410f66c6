"""ETRS-TM35FIN (EPSG:3067), the coordinate system PTV uses, to WGS84 latitude/longitude."""

from __future__ import annotations

from functools import lru_cache

from pyproj import Transformer

# Mainland Finland and its sea area in EPSG:3067, generously: anything else is not a PTV coordinate.
_NORTHING = (6_500_000.0, 7_850_000.0)
_EASTING = (-100_000.0, 800_000.0)


@lru_cache(maxsize=1)
def _to_wgs84() -> Transformer:
    return Transformer.from_crs("EPSG:3067", "EPSG:4326", always_xy=True)


@lru_cache(maxsize=1)
def _to_tm35fin() -> Transformer:
    return Transformer.from_crs("EPSG:4326", "EPSG:3067", always_xy=True)


def tm35fin_to_wgs84(northing: float, easting: float) -> tuple[float, float]:
    """(lat, lon) in WGS84 for an ETRS-TM35FIN northing/easting; ValueError if outside Finland."""
    if not (_NORTHING[0] <= northing <= _NORTHING[1] and _EASTING[0] <= easting <= _EASTING[1]):
        raise ValueError(f"not an ETRS-TM35FIN coordinate in Finland: N={northing} E={easting}")
    lon, lat = _to_wgs84().transform(easting, northing)
    return round(lat, 6), round(lon, 6)


def wgs84_to_tm35fin(lat: float, lon: float) -> tuple[float, float]:
    """(northing, easting) in ETRS-TM35FIN; used to write PTV-shaped test and sample data."""
    easting, northing = _to_tm35fin().transform(lon, lat)
    return round(northing, 1), round(easting, 1)
