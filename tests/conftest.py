from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def taxonomy():
    from matcher.taxonomy import load_taxonomy
    return load_taxonomy()


@pytest.fixture(scope="session")
def title_matcher(taxonomy):
    from matcher.titles import TitleMatcher
    return TitleMatcher.load(taxonomy=taxonomy)


needs_shared = pytest.mark.skipif(not (SHARED / "onet-27").exists(), reason="../shared/data is not beside the checkout")
