from prefect import flow


@flow
def hello(name: str = "eu"):
    print(f"hello {name}")
