"""kinto.core: a thin core for REST microservices on Pyramid and Cornice."""
