"""The notifications bridge behind ``zaqar-bridge``: OpenStack notifications into queues.

Services (Nova, Cinder, Neutron...) emit notifications on the message bus through
oslo.messaging. The bridge reads them with oslo.messaging's own notification listener
(:mod:`zaqar.bridge.listener`) and posts each one, through the shared controller layer
in process, to a queue of the notification's project (:mod:`zaqar.bridge.routing` decides
which; :mod:`zaqar.bridge.endpoint` posts and decides what the bus is told). Websocket
clients subscribed to that queue (the live dashboard) get it pushed at once.

Delivery is at least once: a notification is acknowledged on the bus only after its post
is stored; a failed post puts it back on the bus, and a bridge killed mid-way leaves its
unacknowledged notifications to the broker, which delivers them again.
"""
