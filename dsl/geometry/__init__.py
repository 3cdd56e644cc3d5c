"""Constructive geometry for `domain (x, y) in SHAPE`: primitives (polygon, ellipse/disk,
box, ball), their combinations (`+` union, `-` difference, `&` intersection) and affine
placement, pushed down onto the primitives so that each keeps an exact description.

A shape answers: signed distance (negative inside; exact for polygons, disks, boxes,
balls; the sign is what membership needs), bounding box, and its boundary as smooth
pieces parametrised by arc length (2-D) or area (3-D) with exact outward normals.
`Geometry` is a whole domain: its boundary points are the primitives' boundary points
that separate inside from outside (a side test, so edges shared by two shapes drop out),
with the normal pointing out of the domain (into a hole, for a hole's circle).

numpy only; `phi` methods take `xp` so the hard layers evaluate them with jax.numpy.

  pieces.py      boundary pieces: sampling, normals, distance functions
  primitives.py  polygon, ellipse, box, ball: signed distance, bounding box, placement
  csg.py         union, difference, intersection, and the checks on them
  domain.py      `Geometry`: membership, boundary selection, measures, sampling
  build.py       AST shape expressions → shapes"""
from __future__ import annotations

from .build import SHAPES, Builder, _Reported
from .csg import Combo, validate
from .domain import Geometry
from .pieces import Arc, Face3, Segment, Sphere
from .primitives import Ball, Box, Ellipse, Polygon, Shape

__all__ = ["SHAPES", "Arc", "Ball", "Box", "Builder", "Combo", "Ellipse", "Face3", "Geometry", "Polygon", "Segment",
           "Shape", "Sphere", "_Reported", "validate"]
