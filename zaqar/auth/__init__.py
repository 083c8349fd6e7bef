"""Authentication and authorization primitives: who is calling, and what they may do.

``credentials`` (the identity a transport established), ``policy`` (oslo.policy rules of
every action), ``signed_url`` (pre-signed URLs) and ``keystone`` (the auth_token
middleware and token validation). The api layer applies them, once, to every request.
"""
