"""Django's Redis cache backend, keeping one ``redis.Redis`` client per connection pool.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` object for every cache
operation (its ``__init__`` costs ~0.35 ms of Python), and an API request makes three or four
operations (throttle history read and write, the lead-list cache): about a third of a cached
request's time. A ``redis.Redis`` client is thread-safe and holds no connection of its own (it
borrows from the pool per command), so one per pool is enough. Settings:
``"BACKEND": "crm.cache.RedisCache"``, with the same LOCATION/OPTIONS as Django's.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
