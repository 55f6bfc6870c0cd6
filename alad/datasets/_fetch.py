"""Download of the real data sets into the data home, with sha256 checks."""

__all__ = ["ENV_DATA_URL", "REGISTRY", "fetch_file", "require_files"]

import contextlib
import csv
import gzip
import io
import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pooch
from scipy.io.matlab import MatReadError

from ._home import ENV_DATA_HOME, get_data_home

#: Environment variable naming a mirror of the data home to download from.
ENV_DATA_URL = "ALAD_DATA_URL"

_RAW = "https://raw.githubusercontent.com"
_EVENTDETECTR = f"{_RAW}/frehbach/EventDetectR/7c4cc4a39455416f2b44c8572ddf3a962bababbe"
_PYOD = f"{_RAW}/yzhao062/pyod/34f7996effac700a5166d882d5e94c6e6078fae3"
_ADBENCH = f"{_RAW}/Minqi824/ADBench/3dac8221081e190f157d78e93bfa8867f90d0965"
_DTAIANOMALY = (
    f"{_RAW}/ML-KULeuven/dtaianomaly/38f2f6e0adaca32428438281eae4d03865e3087d"
)
_TRANAD = f"{_RAW}/imperial-qore/TranAD/7ffb98d0c18189cc3d9ab732b4cb0278200a0af0"
_EPILEPSY = f"{_RAW}/npschafer/MTS-DA/2df2eea2c62d672e660dd37da04c5ac0dce3c383"
_NATOPS = f"{_RAW}/Navidfoumani/Disjoint-CNN/38180ccc1f050a3fee6961f5b4ea3bc132016ab3"
_RACKET = f"{_RAW}/yedidh/radonomaly/d5dbe5218c4588dbc428f82283193075844b2ee4"
_CHARTRAJ = (
    f"{_RAW}/moradabaz/ProximityForests-python/"
    "a288443303f5f2e450cbf9382d879b2dc1b2d3dc/datasets/CharacterTrajectories"
)
_UCR_001 = "001_UCR_Anomaly_DISTORTED1sddb40_35000_52000_52620.txt"

_MSL_SHA256 = {
    "train": {
        "C-1": "31fd0a2a44f5beac2c64e1484d5c96ea4adecdd1b52013775e215b01260975ee",
        "C-2": "5d05b47d790135de8d91ca2918d95892c3f52fbfa567fe5b637d51aaa8b91871",
        "D-14": "1021af01d1935e16507c7696275c16cda3056997780baa8d9d72997a157fd65d",
        "D-15": "18007d3503e9109d2c89e25e37ab4b8c652030d9e03dcde4f19b9a4d0496ab51",
        "D-16": "24f5d66a9158257c5b2595686f8888e50777427772b05a16f09470bdb7b5b577",
        "F-4": "7dcf1bdd8a8b59a119b7b080a8b63a77a0a738723714402f20d9021bd4618bcb",
        "F-5": "3c79ee702010f82388b73bd537a84383d4dc22848b4c7aa4a2a3e0d6ac94102c",
        "F-7": "f1c908cad80a8bf6cb7117d736d1a22927522572ca7987128bc4f8419c886411",
        "F-8": "213ce7f2d28150b2df0e600b88f0574f9aaafafbe33449fae98470b99b0a9d8b",
        "M-1": "453bfb0edbbdfd3654098a652fad3a49f07fde9242993078dbe8f1bae1751612",
        "M-2": "61b50d819aaa87f57ba8a90163c3fabf815e8c6a1f242ab60d410d5edd8f42fa",
        "M-3": "c48a3f877d939f604cad977aa259595726cbf34f0193e423285545f512c2b3f3",
        "M-4": "a21e75cebb452724be26f5ca5f463c2b86588bcac25217c4cae27d563a81b0d1",
        "M-5": "a8512b5b0edc1515539539fe93eb731bf7e2528d9322b39782bf1781f5ca66a6",
        "M-6": "681fab71a4c910ceddc519b96e00adbc31e53f485284a62cfae8de2eb5358f26",
        "M-7": "2d66222bfe39372470209a8d3e6f4aecd4e755fd18831cceb497c35e2a403405",
        "P-10": "b537ea82e001d9eaaa611ee41e79fdcc4d5a8387fd27392e65678cc4c808a692",
        "P-11": "f21060190cc1a10a9aa4f58b37b2a1b9af660622c4e488194afb16d7b56d08b9",
        "P-14": "183f77aa16a596485f05bf2f79b8f40fcd707d42a640eb37306a65f4c7672aa4",
        "P-15": "4a325d0b70aaa431f0c452472b5a30c3720b6881cd1c0bf4e7e73e821dc4c824",
        "S-2": "48844faca56f15e5a698f1c0eee114b544f3b87dcaa134b8f0327e025eeac131",
        "T-12": "cd598282ee16a9f7cbed2ae6bfbfce489cabc2ea44ddd3391dc768d7276145d0",
        "T-13": "9f3d78fa06ddf72f26fc190e11d38a253c1e2b59a4fc0bd06633b98a010a4f86",
        "T-4": "d137cceeedfd2c0759b9217ccb15cb29d7c8c0458d2d2515f84f54d5f0655c4c",
        "T-5": "dee9cf73d88fedd63896b51c627880a5693645ba641806bbcfbae294e3e30376",
        "T-8": "ce4c1d993e283f4b4d9c85922fa4e384e2aa65091a9dc74739e9c733e374c465",
        "T-9": "11052bf6842a5d8b097a30cdcba1d14ad5a2d3a4ffac4864853eef6cb7206738",
    },
    "test": {
        "C-1": "ea8bf028555a09a45b5fd5003958c8500da46b12178c963186293db14e3c8aab",
        "C-2": "dca3a5cc07ec3899c2b9c6bc28a889d9872a670d08677065d39da1326c14c2b4",
        "D-14": "65400342172e5a01f36c389bd85b8bedce410965e155a10cc600c3c3834d8bc7",
        "D-15": "0c5691a3fc17b87d06eb23548931ffa589a5f4bed608b6db40ac976cd5695acd",
        "D-16": "85d98f5b6223a10d5ac1c881872cd7c6b93f288236632c282093a41dbba31490",
        "F-4": "6b9610c11604ecc64ee537533d7392b4337a0d50ef4bf9ae84783e7262fa9612",
        "F-5": "4ab308e3835547b8144acf8df136c9895ce759b30de0851fb23eca999877036e",
        "F-7": "8474d57429c8541ad5efd4635c8751e3d90fb1feeba3a4b94958cada77f90665",
        "F-8": "ebb950663e30ec91e52b6b422528bc4025563506af7fea6303eeabe5b2cd674e",
        "M-1": "58e16675dc0bada099130d02bd29279ea20c764bf3415bb5adefd626ef94dd56",
        "M-2": "1bee2419bc4b5d9a7a71e830c1af5c98837ab31640da553f8f0d3eff9e86af49",
        "M-3": "3c43c068fddbf661c6e7cbd933f8b10adcef9cd446818a160ef7c62994fb3d3a",
        "M-4": "bac52a304556631942d5e548a4ecc1cbf3aae3409aeb5c8eaaf3126b1ae83ac2",
        "M-5": "e4d8cf724bf78d94daae0dc66d5f1a3023545229e15ab9aa3877c267a41b57b5",
        "M-6": "4138b2b33f919eb0791b0d2f5337f605bcfc533b07ed91015bfbbcda1c08a612",
        "M-7": "28f065fa569a5073eca60f99dd2d3dc93b449ed61e53e543d36e43392fd27bf1",
        "P-10": "2a34698f41fd1a16324f26d86a9443f3c633e7554f524e53d4773b40ca83a52a",
        "P-11": "dad84034fd7ad1b2dd4bcbdaefc345719c2fb1b1d3a7713257c612fc995ecc44",
        "P-14": "2a34698f41fd1a16324f26d86a9443f3c633e7554f524e53d4773b40ca83a52a",
        "P-15": "2284348ac1fc998b5aa76c5bbfbeff977f36b17f9602b6654dc65552b50954ae",
        "S-2": "fb9651f2d378bfceef7d694cbe3cb7eafd36b8113241da247b98da53caefaeea",
        "T-12": "6848f4f7eec6c086862e0daf766617994935e265f2cd9bf229282609c13986bf",
        "T-13": "ebdf225ad1b21faf4c0c3013de07f1ab77cefd1329587421cfa424128b9433a6",
        "T-4": "330499f248367f9bb3eae4eadc105fa9d44bfee3913a3d4b066f9dd3c43a4156",
        "T-5": "164cc73b9f82861959f61c54828c3ac70e6ffcc005b38c84a620c125106a6041",
        "T-8": "5778979c00621904c36f09bc432b462b87623b7ebc0255dcb4829895b2359b34",
        "T-9": "4746b631cc292906c2cbc3ede7d472268f2c799bca41e13f2b0253bf016617b4",
    },
}

_UEA_SHA256 = {
    "Epilepsy/Epilepsy_TRAIN.ts": (
        "e2555afb91b2484831bcc66b3b5db3a362ba0697e855cfbb041eac165e371022"
    ),
    "Epilepsy/Epilepsy_TEST.ts": (
        "e68e220e31a9235fd7da23bbae2e59bd8315a3cc4c2b12f803885235b61b52ac"
    ),
    "NATOPS/NATOPS_TRAIN.ts": (
        "3567f0aa297e89327215ee1147537e06f7bdc51f48ac8d2c39aaa34fb1eab1b7"
    ),
    "NATOPS/NATOPS_TEST.ts": (
        "3a9a41a948c30d19db6b9e0ec44d946d42199c4f8724c2aa6e8b71b28612404e"
    ),
    "RacketSports/RacketSports_TRAIN.ts": (
        "f5374faaaf6a1aad9ca2ec26d0e39ba61f26b8a6d6bf1766a691027c1ca6f023"
    ),
    "RacketSports/RacketSports_TEST.ts": (
        "c8179bbde0e45f41218ce4a46258524ae7abca7d0e7e45f4424a23d1b1d98d8d"
    ),
    "CharacterTrajectories/CharacterTrajectoriesDimension1_TRAIN.arff": (
        "09d6a3c66b874ef80d8fa259a2a079534cf68f6893bd2667a5367400d5efa147"
    ),
    "CharacterTrajectories/CharacterTrajectoriesDimension1_TEST.arff": (
        "35f8354a74addccbe2693875a6756a0b40a8e6300092a38cbd6aef96cee90b82"
    ),
    "CharacterTrajectories/CharacterTrajectoriesDimension2_TRAIN.arff": (
        "052bd654def99d976967ae6a1a4aff625d2683116c8359232449b3df61e619f1"
    ),
    "CharacterTrajectories/CharacterTrajectoriesDimension2_TEST.arff": (
        "0beb557aa88af34b74698c5fe00cc4fe7c01c9b0db580ef84ca9d4bad005381f"
    ),
    "CharacterTrajectories/CharacterTrajectoriesDimension3_TRAIN.arff": (
        "043ac8333f7852844c8a5464abe435ee76e2ff29559cc00dfc16de7ab149db7b"
    ),
    "CharacterTrajectories/CharacterTrajectoriesDimension3_TEST.arff": (
        "55d8aaddd4240ba8ce3ebd9e97451bcaef0db846e361c4c3264716715b11370e"
    ),
}
_UEA_REPOSITORY = {
    "Epilepsy": f"{_EPILEPSY}/data/Epilepsy",
    "NATOPS": f"{_NATOPS}/Multivariate_ts/NATOPS",
    "RacketSports": f"{_RACKET}/RacketSports",
    "CharacterTrajectories": _CHARTRAJ,
}

#: ``{relative path in the data home: (upstream URL, sha256 of the stored file)}``.
REGISTRY: dict[str, tuple[str, str]] = {
    "gecco/geccoIC2018Train.rda": (
        f"{_EVENTDETECTR}/data/geccoIC2018Train.rda",
        "10d1823c241f4db368605a5ccc2b4ee9ede6c0ef18632c21a73683678455ce0f",
    ),
    "odds/arrhythmia.mat": (
        f"{_PYOD}/examples/data/arrhythmia.mat",
        "e4d47e499591ae31e5d7f0cd983367092353eac240f48e14c9b36457edb3460d",
    ),
    "odds/cardio.mat": (
        f"{_PYOD}/examples/data/cardio.mat",
        "5e568b6a73711012c481fa6cc984ab9c68e9a4fa44d6aeb3b43efa381c3f695b",
    ),
    "odds/lympho.mat": (
        f"{_PYOD}/notebooks/data/lympho.mat",
        "031b907ecb50347720b08b38f8139d05635adeca9335a064d89d5569c27a5834",
    ),
    "odds/38_thyroid.npz": (
        f"{_ADBENCH}/adbench/datasets/Classical/38_thyroid.npz",
        "8de161b3f235b7647bb0b39a836d983ff61d67bf234edac461da2d71e889cb87",
    ),
    f"ucr_anomaly/{_UCR_001}": (
        f"{_DTAIANOMALY}/data/UCR-time-series-anomaly-archive/{_UCR_001}",
        "4a9c39e6d2cbd819909df7d20cf553afa995daa3155611f9972960199973bca3",
    ),
    # The hash is that of the file as stored: upstream's rows filtered to
    # spacecraft == MSL (see _keep_msl_rows).
    "msl/labeled_anomalies.csv": (
        f"{_TRANAD}/data/SMAP_MSL/labeled_anomalies.csv",
        "96d827e00335830ca66f9e6cd735dd1ac8ed089c4360e7a606735fc51709beb2",
    ),
    **{
        f"msl/{split}/{channel}.npy": (
            f"{_TRANAD}/data/SMAP_MSL/{split}/{channel}.npy",
            sha256,
        )
        for split, hashes in _MSL_SHA256.items()
        for channel, sha256 in hashes.items()
    },
    **{
        f"uea/{path}": (
            f"{_UEA_REPOSITORY[path.partition('/')[0]]}/{path.partition('/')[2]}",
            sha256,
        )
        for path, sha256 in _UEA_SHA256.items()
    },
}


def _keep_msl_rows(raw: bytes) -> bytes:
    """Keep the header and the MSL rows of telemanom's labeled_anomalies.csv."""
    reader = csv.reader(io.StringIO(raw.decode("utf-8"), newline=""))
    header = next(reader)
    spacecraft = header.index("spacecraft")
    out = io.StringIO()
    # csv's default dialect ends lines with \r\n, as the stored file does, so the
    # result can be checked against the registered sha256.
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(row for row in reader if row and row[spacecraft] == "MSL")
    return out.getvalue().encode("utf-8")


# Files whose upstream form differs from the stored form: the download itself is
# not hash-checked (its upstream hash is not pinned here), the transformed bytes are.
_POSTPROCESS: dict[str, Callable[[bytes], bytes]] = {
    "msl/labeled_anomalies.csv": _keep_msl_rows,
}


def _download_url(relative_path: str, base_url: str | None) -> str:
    base_url = base_url or os.environ.get(ENV_DATA_URL)
    if not base_url:
        return REGISTRY[relative_path][0]
    # Checked here so that a ValueError of the download is only a hash mismatch.
    if not base_url.startswith(("http://", "https://")):
        raise ValueError(
            f"base_url (or {ENV_DATA_URL}) must be an http:// or https:// address; "
            f"got {base_url!r}"
        )
    return f"{base_url.rstrip('/')}/{relative_path}"


def fetch_file(
    relative_path: str,
    data_home: str | os.PathLike | None = None,
    *,
    base_url: str | None = None,
) -> Path:
    """Download one registered file into the data home and check its sha256.

    A file already in place with the registered sha256 is not downloaded again;
    one with another hash is replaced.

    Parameters
    ----------
    relative_path : str
        Path of the file inside the data home, with forward slashes, e.g.
        ``"odds/cardio.mat"``. It must be a key of the download registry
        ``alad.datasets._fetch.REGISTRY``.
    data_home : str or path-like, default=None
        The data home, see :func:`get_data_home`. Created if missing.
    base_url : str, default=None
        Address of a mirror laid out like the data home: the file is fetched
        from ``base_url + "/" + relative_path`` instead of its upstream address.
        When None, the environment variable ``ALAD_DATA_URL`` is used if set
        (this is how the loaders' ``download=True`` is pointed at a mirror),
        else the upstream address.

    Returns
    -------
    path : pathlib.Path
        The path of the file in the data home.

    Raises
    ------
    ValueError
        If `relative_path` is not registered, `base_url` is not an http(s)
        address, or the downloaded file does not have the registered sha256
        (the file is then not written).
    FileNotFoundError
        If the download fails (no network, address not found).

    Notes
    -----
    ``msl/labeled_anomalies.csv`` is registered with the sha256 of the MSL rows
    of telemanom's file, which is what the data home holds. The upstream file
    (which also has the SMAP rows) is downloaded without a hash check, reduced
    to its header and MSL rows, and the result is checked against the
    registered sha256 before it is written.

    Examples
    --------
    >>> from alad.datasets import fetch_file
    >>> fetch_file("odds/cardio.mat")  # doctest: +SKIP
    PosixPath('/home/user/alad_data/odds/cardio.mat')
    """
    if not isinstance(relative_path, str) or relative_path not in REGISTRY:
        folders = sorted({path.split("/")[0] for path in REGISTRY})
        raise ValueError(
            "relative_path must be a file of the download registry, such as "
            f"'odds/cardio.mat', in one of the folders {folders}; "
            f"got {relative_path!r}"
        )
    sha256 = REGISTRY[relative_path][1]
    url = _download_url(relative_path, base_url)
    target = get_data_home(data_home) / relative_path
    if target.is_file() and pooch.file_hash(str(target)) == sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        if relative_path in _POSTPROCESS:
            _fetch_postprocessed(relative_path, url, target, sha256)
        else:
            pooch.retrieve(
                url,
                known_hash=f"sha256:{sha256}",
                fname=target.name,
                path=target.parent,
            )
    except OSError as exc:  # network errors of requests are OSErrors too
        raise FileNotFoundError(
            f"Could not download {relative_path!r} from {url} ({exc}). Put the "
            f"file at {target} by hand, or set {ENV_DATA_HOME} (or pass "
            "data_home=) to a folder that holds it."
        ) from exc
    except ValueError as exc:
        raise ValueError(
            f"The download of {relative_path!r} from {url} failed its sha256 "
            f"check; nothing was written to {target}. {exc}"
        ) from exc
    return target


def _fetch_postprocessed(
    relative_path: str, url: str, target: Path, sha256: str
) -> None:
    # The temporary folder sits beside the target so that os.replace is atomic.
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        raw = Path(tmp, "upstream")
        # A bare downloader: pooch.retrieve would log advice to pin the hash of
        # the upstream file, which is deliberately not pinned.
        pooch.HTTPDownloader()(url, str(raw), None)
        content = _POSTPROCESS[relative_path](raw.read_bytes())
        tmp_target = Path(tmp, target.name)
        tmp_target.write_bytes(content)
        got = pooch.file_hash(str(tmp_target))
        if got != sha256:
            raise ValueError(f"expected sha256 {sha256}, got {got}.")
        os.replace(tmp_target, target)


def require_files(
    relative_paths: Iterable[str],
    data_home: str | os.PathLike | None = None,
    *,
    download: bool = False,
    hint: str = "",
) -> Path:
    """Make sure files are in the data home, downloading them if asked.

    Parameters
    ----------
    relative_paths : iterable of str
        Paths inside the data home, with forward slashes.
    data_home : str or path-like, default=None
        The data home, see :func:`get_data_home`.
    download : bool, default=False
        Whether to download the missing files (see :func:`fetch_file`).
    hint : str, default=""
        Sentence appended to the error message, e.g. an alternative file.

    Returns
    -------
    data_home : pathlib.Path
        The data home that holds the files.

    Raises
    ------
    FileNotFoundError
        If files are missing and `download` is False, or have no registered
        download address, or their download fails.
    """
    home = get_data_home(data_home)
    if home.exists() and not home.is_dir():
        raise FileNotFoundError(
            f"The data home {home} is a file, not a folder: set {ENV_DATA_HOME} "
            "(or pass data_home=, on the command line --data-home) to the "
            "folder that holds the data sets."
        )
    missing = [path for path in relative_paths if not (home / path).is_file()]
    if not missing:
        return home
    unregistered = [path for path in missing if path not in REGISTRY]
    if download and not unregistered:
        for path in missing:
            fetch_file(path, home)
        return home
    listing = "\n".join(f"  {home / path}" for path in (unregistered or missing))
    if download or unregistered:  # download=True cannot fetch these
        advice = (
            "No public download address is registered for them: put them there "
            f"by hand, or set {ENV_DATA_HOME} (or pass data_home=, on the command "
            "line --data-home) to a folder that holds them."
        )
    else:
        advice = (
            "Put them there, or call the loader with download=True (in Python) "
            "to fetch them (sha256-checked) from their public upstream address, "
            "or set "
            f"{ENV_DATA_HOME} (or pass data_home=, on the command line "
            "--data-home) to a folder that holds them."
        )
    raise FileNotFoundError(
        f"Data files missing from the data home {home}:\n{listing}\n{advice}"
        + (f" {hint}" if hint else "")
    )


@contextlib.contextmanager
def reading(path: Path):
    """A data file that cannot be read (cut off, not of its format) as a
    ValueError that names it: the bare errors of gzip, NumPy and float parsing
    ("Compressed file ended before the end-of-stream marker", "could not
    convert string to float") do not say which file of the data home is bad.
    """
    try:
        yield
    except (
        EOFError,
        # scipy's .arff reader runs next() past the end of an empty file; the
        # StopIteration, escaping, would silently end a caller's map() early
        StopIteration,
        zlib.error,
        gzip.BadGzipFile,
        # a cut .npz, or one whose member fails its CRC
        zipfile.BadZipFile,
        # a cut or empty .mat
        MatReadError,
        UnicodeDecodeError,
        # a file of another layout (a .mat or .npz without the arrays named
        # X and y, a CSV without a column, a cut .arff, a cell that is no
        # Python literal) and one that cannot be read as its format
        KeyError,
        IndexError,
        SyntaxError,
        OSError,
    ) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        # A StopIteration or EOFError may carry no message at all.
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise ValueError(f"{path} cannot be read ({detail}); fetch it again.") from exc
    except ValueError as exc:
        if str(path) in str(exc) or path.name in str(exc):
            raise
        raise ValueError(f"{path} cannot be read ({exc}); fetch it again.") from exc


def check_finite(values: np.ndarray, path: Path | str) -> np.ndarray:
    """``values`` read from ``path`` (a file, or a name for an array of one),
    refused with a ValueError naming it where any is NaN or infinite: the
    detectors take finite values only, and a benchmark would fit for
    minutes before scoring reached them."""
    finite = np.isfinite(values)
    if not finite.all():
        first = np.unravel_index(int(np.flatnonzero(~finite.ravel())[0]), values.shape)
        raise ValueError(
            f"{path} holds {int((~finite).sum())} NaN or infinite value(s), the "
            f"first at index {tuple(int(i) for i in first)}; fill or drop them "
            "before use (or fetch the file again)."
        )
    return values
