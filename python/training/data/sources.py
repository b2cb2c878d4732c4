"""Where the training imagery comes from.

Every source is a Debian package (bookworm) fetched with ``apt-get download``;
nothing here is committed to the repository.  Licences were read from each
package's ``/usr/share/doc/<pkg>/copyright`` (see python/training/DATA.md).

Categories:
  scene    full-frame photographs, used as backgrounds / camera-motion clips
  object   photographic cut-outs with an alpha channel, used as moving overlays
  texture  photographic surface textures (rock, wood, grass, ...)
  astro    telescope photographs (mostly dark), used sparingly
"""
from dataclasses import dataclass, field
from typing import List, Optional


@dataclass(frozen=True)
class Source:
    package: str
    category: str
    include: List[str]
    licence: str
    exclude: List[str] = field(default_factory=list)
    # reject images that look like clip-art / UI / normal maps
    photo_filter: bool = True
    min_side: int = 160
    # when several members match the same group key (regex group 1), keep the
    # largest one only (wallpapers shipped at many resolutions)
    group_regex: Optional[str] = None
    note: str = ""


IMG = ("*.jpg", "*.jpeg", "*.png", "*.JPG", "*.PNG")


def _img(prefix: str) -> List[str]:
    return [prefix + ext for ext in IMG]


SOURCES: List[Source] = [
    Source("endless-sky-high-dpi", "scene",
           _img("*/images/land/*") + _img("*/images/scene/*"),
           "public domain (morguefile/unsplash/NASA/USGS/LoC) + CC-BY-SA-3.0/4.0 (per file)",
           exclude=["*/images/scene/geoscan*"],
           note="273 landscape/city photos at 1440x720"),
    Source("endless-sky-data", "scene",
           _img("*/images/land/*") + _img("*/images/scene/*"),
           "public domain (morguefile/unsplash/NASA/USGS/LoC) + CC-BY-SA-3.0/4.0 (per file)",
           exclude=["*/images/scene/geoscan*"],
           note="low-dpi copies (deduplicated against high-dpi) + extra scenes"),
    Source("lomiri-wallpapers-16.04", "scene", _img("*/backgrounds/*"),
           "CC-BY-4.0 / CC-BY-SA-4.0 / CC0-1.0 (per file)"),
    Source("lomiri-wallpapers-20.04", "scene", _img("*/backgrounds/*"),
           "CC-BY-SA-3.0"),
    Source("mate-backgrounds", "scene", _img("*/backgrounds/mate/nature/*"),
           "GPL-2+"),
    Source("plasma-workspace-wallpapers", "scene",
           _img("*/wallpapers/*/contents/images/*"), "GPL-2+ (KDE VDG)",
           group_regex=r"wallpapers/([^/]+)/"),
    Source("python3-skimage", "scene",
           ["*/skimage/data/" + f for f in (
               "astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg",
               "motorcycle_left.png", "retina.jpg", "ihc.png", "coins.png",
               "camera.png", "moon.png")],
           "CC0 / public domain / no known restrictions (skimage.data docstrings)",
           photo_filter=False),
    Source("python3-skimage", "texture",
           ["*/skimage/data/" + f for f in ("gravel.png", "brick.png", "grass.png")],
           "CC0 (skimage.data docstrings)", photo_filter=False),
    Source("opencv-doc", "scene", _img("*/examples/data/*"),
           "BSD-3-Clause (OpenCV sample data, mixed provenance)",
           exclude=["*lena*", "*/left*", "*/right*", "*chessboard*", "*calib*",
                    "*mask*", "*logo*", "*Logo*", "*text*", "*Text*", "*digits*",
                    "*/pic[0-9]*", "*shape*", "*HappyFish*", "*gradient*",
                    "*detect_blob*", "*/ml.png", "*templ*"]),
    Source("kphotoalbum", "scene", _img("*/kphotoalbum/demo/*"), "GPL-2+"),
    Source("scratch", "scene", _img("*/Media/Backgrounds/*"), "CC-BY-SA-3.0 (MIT Scratch media)"),
    Source("gnome-control-center-data", "scene", _img("*/pixmaps/faces/*"),
           "GPL-2+ / CC0-1.0 (see package copyright)",
           exclude=["*/legacy/*"]),
    Source("psychtoolbox-3-common", "scene",
           ["*/PsychDemos/konijntjes1024x768.jpg", "*/OldNewRecognition/stims/*.jpg",
            "*/SR-ResearchDemo/AntiSaccade/img*.jpg", "*/SR-ResearchDemo/town.jpg",
            "*/SR-ResearchDemo/change/R*.jpg"],
           "Expat / BSD-3 / GPL-2+ (Psychtoolbox demo images)"),
    Source("tuxpaint-stamps-default", "object", ["*/stamps/*.png"], "GPL-2",
           exclude=["*/symbols/*", "*_mirror.png", "*_flip.png"], min_side=96),
    Source("qabcs-data", "object", ["*/pics/*.png", "*/pics/*.jpg"],
           "GPL-3+ (a few files CC0 / public domain)", min_side=96),
    Source("supertuxkart-data", "texture", _img("*/data/textures/*"),
           "CC-BY-SA-3.0/4.0, CC-BY-3.0, CC0, public domain (per file)",
           exclude=["*_alpha.*", "*checker*", "*/gui/*"], min_side=128),
    Source("cube2-data", "texture", _img("*/packages/*"),
           "CC-BY-3.0 / CC-BY-SA / CC0 / public domain (per texture pack)",
           exclude=["*/icons/*", "*/particles/*", "*/gk/cyber/*", "*/packages/base/*",
                    "*/data/*", "*/caustics/*", "*/brushes/*",
                    "*/hud/*", "*/models/*", "*_nm.*", "*_local.*", "*_norm*",
                    "*_spec*", "*_height*", "*_glow*", "*_gloss*", "*_mask*",
                    "*_nm_*", "*_hm.*", "*_hm_*", "*license*"],
           min_side=128),
    Source("stellarium-data", "astro", _img("*/nebulae/default/*"),
           "GPL-2+ (Debian copyright; per-image credits in nebulae/default/textures.json)",
           min_side=128),
]


def packages() -> List[str]:
    seen = []
    for s in SOURCES:
        if s.package not in seen:
            seen.append(s.package)
    return seen
