from prefect import flow


@flow
def hello(name: str = "us", loud: bool = False):
    print(f"hello {name}")
