from common.settings import TEAM, LoadSettings, Warehouse
from prefect import flow


@flow(name=TEAM + "-with-settings")
def load_with_settings(settings: LoadSettings, warehouse: Warehouse = Warehouse.BIGQUERY, rows: int = 10,
                       owner: str = TEAM):
    return rows
