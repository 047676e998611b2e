"""Guestbook: signed greetings stored in the Datastore."""
import datetime
import os

import jinja2
import webapp2
from google.appengine.api import taskqueue, users
from google.appengine.ext import ndb

JINJA = jinja2.Environment(
    loader=jinja2.FileSystemLoader(os.path.join(os.path.dirname(__file__), 'templates')),
    autoescape=True)

GUESTBOOK = ndb.Key('Guestbook', 'default')


class Greeting(ndb.Model):
    author = ndb.StringProperty()
    content = ndb.TextProperty(required=True)
    date = ndb.DateTimeProperty(auto_now_add=True)


class MainPage(webapp2.RequestHandler):
    def get(self):
        greetings = Greeting.query(ancestor=GUESTBOOK).order(-Greeting.date).fetch(20)
        user = users.get_current_user()
        self.response.write(JINJA.get_template('index.html').render(
            greetings=greetings, user=user,
            login_url=users.create_login_url('/'), logout_url=users.create_logout_url('/')))

    def post(self):
        user = users.get_current_user()
        greeting = Greeting(parent=GUESTBOOK, content=self.request.get('content')[:2000],
                            author=user.nickname() if user else None)
        greeting.put()
        taskqueue.add(queue_name='notify', url='/tasks/notify', params={'id': greeting.key.id()})
        self.redirect('/')


class Cleanup(webapp2.RequestHandler):
    def get(self):
        cutoff = datetime.datetime.utcnow() - datetime.timedelta(days=30)
        keys = Greeting.query(Greeting.date < cutoff).fetch(500, keys_only=True)
        ndb.delete_multi(keys)
        self.response.write('deleted %d\n' % len(keys))


class Notify(webapp2.RequestHandler):
    def post(self):
        self.response.write('ok\n')


app = webapp2.WSGIApplication([
    ('/', MainPage),
    ('/sign', MainPage),
    ('/tasks/cleanup', Cleanup),
    ('/tasks/notify', Notify),
])
