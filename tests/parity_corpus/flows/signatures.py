from prefect import flow
import prefect


@flow
def positional(a: int, /, b: str = "x", *rest: int, flag: bool = True, **extra: float):
    return a


@prefect.flow(name="no-params")
def no_params():
    return 1


@flow()
def untyped(x, y=3, z=None):
    return x
