# The documented example #6, copied as a plugin author would (a package of their own).
from cornice import Service

search = Service(name="seed_search", path="/seed-search/{collection_id}/", description="Search")


@search.post()
def get_search(request):
    collection_id = request.matchdict["collection_id"]
    return request.registry.indexer.search(collection_id, request.json_body)
