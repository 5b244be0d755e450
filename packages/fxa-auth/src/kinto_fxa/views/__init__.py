"""The login-flow endpoints: ``/v1/fxa-oauth/params`` always, ``login`` and ``token`` when the relier is enabled."""
