CREATE SCHEMA IF NOT EXISTS "email";
--> statement-breakpoint
CREATE TABLE "email"."campaigns" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" varchar(200) NOT NULL,
	"subject" varchar(200) NOT NULL,
	"headline" varchar(200) NOT NULL,
	"body" text NOT NULL,
	"cta_label" varchar(100),
	"cta_url" varchar(2000),
	"audience" jsonb,
	"status" varchar(10) NOT NULL,
	"recipients" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"sent_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "email"."messages" (
	"id" uuid PRIMARY KEY NOT NULL,
	"dedupe_key" varchar(300) NOT NULL,
	"user_id" uuid,
	"to_email" varchar(320) NOT NULL,
	"template" varchar(40) NOT NULL,
	"kind" varchar(14) NOT NULL,
	"campaign_id" uuid,
	"subject" varchar(300) NOT NULL,
	"html" text NOT NULL,
	"text" text NOT NULL,
	"unsubscribe_url" text,
	"status" varchar(16) NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp (3) with time zone NOT NULL,
	"provider_message_id" varchar(100),
	"last_error" varchar(500),
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL,
	"sent_at" timestamp (3) with time zone,
	"delivered_at" timestamp (3) with time zone,
	"opened_at" timestamp (3) with time zone,
	"clicked_at" timestamp (3) with time zone,
	"bounced_at" timestamp (3) with time zone,
	"unsubscribed_at" timestamp (3) with time zone
);
--> statement-breakpoint
CREATE TABLE "email"."preferences" (
	"user_id" uuid PRIMARY KEY NOT NULL,
	"marketing" boolean NOT NULL,
	"account_updates" boolean NOT NULL,
	"alerts_enabled" boolean NOT NULL,
	"alert_categories" jsonb NOT NULL,
	"alert_keywords" jsonb NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "email"."processed_events" (
	"consumer" varchar(100) NOT NULL,
	"event_id" uuid NOT NULL,
	"processed_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "processed_events_consumer_event_id_pk" PRIMARY KEY("consumer","event_id")
);
--> statement-breakpoint
CREATE TABLE "email"."suppressions" (
	"email" varchar(320) PRIMARY KEY NOT NULL,
	"reason" varchar(14) NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "email"."webhook_events" (
	"sg_event_id" varchar(100) PRIMARY KEY NOT NULL,
	"event" varchar(30) NOT NULL,
	"message_id" uuid,
	"received_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "messages_dedupe_key_idx" ON "email"."messages" USING btree ("dedupe_key");--> statement-breakpoint
CREATE INDEX "messages_due_idx" ON "email"."messages" USING btree ("next_attempt_at") WHERE "email"."messages"."status" in ('QUEUED', 'SENDING');--> statement-breakpoint
CREATE INDEX "messages_user_idx" ON "email"."messages" USING btree ("user_id","created_at","id");--> statement-breakpoint
CREATE INDEX "messages_campaign_idx" ON "email"."messages" USING btree ("campaign_id");--> statement-breakpoint
CREATE INDEX "messages_provider_idx" ON "email"."messages" USING btree ("provider_message_id");