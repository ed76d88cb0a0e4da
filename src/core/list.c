/**
 * @file list.c  Intrusive doubly linked lists.
 */
#include "core/list.h"

#include "core/mem.h"

void list_init(struct list *l)
{
	l->head = l->tail = NULL;
	l->n = 0;
}


void list_append(struct list *l, struct le *le, void *data)
{
	le->list = l;
	le->data = data;
	le->next = NULL;
	le->prev = l->tail;
	if (l->tail)
		l->tail->next = le;
	else
		l->head = le;
	l->tail = le;
	l->n++;
}


void list_prepend(struct list *l, struct le *le, void *data)
{
	le->list = l;
	le->data = data;
	le->prev = NULL;
	le->next = l->head;
	if (l->head)
		l->head->prev = le;
	else
		l->tail = le;
	l->head = le;
	l->n++;
}


void list_insert_after(struct list *l, struct le *at, struct le *le, void *data)
{
	if (!at) {
		list_prepend(l, le, data);
		return;
	}
	le->list = l;
	le->data = data;
	le->prev = at;
	le->next = at->next;
	if (at->next)
		at->next->prev = le;
	else
		l->tail = le;
	at->next = le;
	l->n++;
}


void list_unlink(struct le *le)
{
	struct list *l;

	if (!le || !(l = le->list))
		return;
	if (le->prev)
		le->prev->next = le->next;
	else
		l->head = le->next;
	if (le->next)
		le->next->prev = le->prev;
	else
		l->tail = le->prev;
	l->n--;
	le->next = le->prev = NULL;
	le->list = NULL;
}


void list_flush(struct list *l)
{
	struct le *le;

	while ((le = l->head)) {
		void *data = le->data;
		list_unlink(le);
		mem_deref(data);
	}
}
